"""``opsconsole.lib.gcpause.paused``: the cyclic collector stays off while
any thread is inside, comes back when the last one leaves, and stays off if
it was off before."""

import gc
import threading
import weakref

import pytest

from opsconsole.lib.gcpause import paused


@pytest.fixture(autouse=True)
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_off_inside_and_back_after():
    with paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_back_after_an_exception():
    with pytest.raises(ValueError), paused():
        raise ValueError
    assert gc.isenabled()


def test_as_a_decorator():
    @paused()
    def inside():
        return gc.isenabled()

    assert inside() is False
    assert gc.isenabled()


def test_stays_off_until_the_last_thread_leaves():
    first_in, second_in, first_out, second_out = (threading.Event() for _ in range(4))
    seen = {}

    def first():
        with paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()
        second_out.wait(5)

    def second():
        first_in.wait(5)
        with paused():
            second_in.set()
            first_out.wait(5)
            seen["after the first left"] = gc.isenabled()
        second_out.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"after the first left": False}
    assert gc.isenabled()


def test_a_collector_off_before_stays_off():
    gc.disable()
    with paused():
        pass
    assert not gc.isenabled()


class Cycle:
    def __init__(self):
        self.me = self


def test_cycles_are_collected_while_pauses_overlap_for_long(monkeypatch):
    """Two threads whose pauses overlap without end: a thread leaving while
    the other is inside collects the young generations once a sweep period
    has passed, so cycles made meanwhile do not pile up."""
    monkeypatch.setattr("opsconsole.lib.gcpause.SWEEP_SECONDS", 0.0)
    gc.collect()
    other_in, done = threading.Event(), threading.Event()

    def other():
        with paused():
            other_in.set()
            done.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    assert other_in.wait(10)
    with paused():
        made = [weakref.ref(Cycle()) for _ in range(1000)]
        assert not gc.isenabled()
    alive = sum(1 for ref in made if ref() is not None)
    still_off = not gc.isenabled()
    done.set()
    thread.join(10)
    assert still_off  # the other thread is still inside
    assert alive == 0
