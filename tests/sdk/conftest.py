import pytest

from tests.sdk.live_console import Console


@pytest.fixture
def console(tmp_path):
    """A console process (not started yet: call ``console.start()``); stopped
    at the end of the test. Use with ``transaction=True`` tests, after making
    the rows the console must see."""
    live = Console(tmp_path)
    yield live
    live.stop()


@pytest.fixture
def spool(tmp_path):
    return tmp_path / "spool"
