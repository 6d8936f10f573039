"""Alert channels pointing at real local receivers, and a clock to move."""

import pytest
import time_machine

from sla.models import AlertChannel
from tests.integrations.webhook_receiver import Receiver

SECRET = "alert-secret"


def make_channel(tenant, kind="webhook", url="", **kw):
    position = AlertChannel.objects.filter(tenant=tenant).count() + 1
    kw.setdefault("secret", SECRET if kind == "webhook" else "")
    return AlertChannel.objects.create(tenant=tenant, position=position, channel=kind, url=url, **kw)


@pytest.fixture
def receiver():
    with Receiver(SECRET) as r:
        yield r


@pytest.fixture
def clock():
    """``clock(when)`` stops the clock at ``when`` (an ISO string or a datetime)."""
    state = {}

    def move(when):
        if "traveller" in state:
            state["traveller"].stop()
        state["traveller"] = time_machine.travel(when, tick=False)
        state["traveller"].start()

    yield move
    if "traveller" in state:
        state["traveller"].stop()


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """``run_tasks(fn, *args)``: call ``fn`` and run what it queued on commit
    (tasks run inline under the test settings)."""

    def call(fn, *args, **kw):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kw)

    return call
