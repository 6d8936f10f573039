"""What an ordinary refusal writes to the log."""

import io
import logging

import pytest


@pytest.fixture
def console_log():
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(getattr(f, "__class__", None).__name__ == "NoTracebackForClientErrors" for f in h.filters)
    )
    stream = io.StringIO()
    old = handler.setStream(stream)
    yield stream
    handler.setStream(old)


def test_an_ordinary_403_is_one_log_line_without_a_traceback(client, customer_viewer, console_log):
    client.force_login(customer_viewer)
    response = client.post("/inbox/bulk/", {"action": "acknowledge", "ids": ["1"]})
    assert response.status_code == 403
    logged = console_log.getvalue()
    assert "Forbidden" in logged and "/inbox/bulk/" in logged
    assert "Traceback" not in logged and "PermissionDenied" not in logged
