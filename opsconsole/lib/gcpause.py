"""Pausing Python's cyclic garbage collector while a request builds large,
short-lived and acyclic data.

A batch of 500 run documents decodes into some 30,000 dicts and lists, and
cleaning them makes as many more. They all live until the request ends, so
every collection the allocations trigger finds nothing to free; but it walks
them, and the oldest generation's collections (started whenever the objects
promoted since the last one outnumber a quarter of it) walk them all again.
In the worker API that was a fifth of the web worker's CPU. Freed by
reference counting when the request ends, these objects never need the
collector.

The collector is process-wide and gunicorn threads share it: it stays off
while any thread is inside ``paused()`` and comes back when the last one
leaves, unless it was off before the first came in. Under steady ingest the
threads' pauses may overlap for long; reference cycles made meanwhile (each
request and its view refer to each other) would then never be collected, so
a thread leaving while others stay inside collects the young generations
itself, at most once every ``SWEEP_SECONDS``. That pass walks what the other
threads' requests hold, so it is kept rare; whatever is large should not
wait for it (the worker API releases the decoded documents itself)."""

import contextlib
import gc
import threading
import time

SWEEP_SECONDS = 5.0

_lock = threading.Lock()
_inside = 0
_resume = False
_last_sweep = 0.0


def _enter():
    global _inside, _resume, _last_sweep
    with _lock:
        if _inside == 0:
            _resume = gc.isenabled()
            _last_sweep = time.monotonic()
            gc.disable()
        _inside += 1


def _leave():
    global _inside, _last_sweep
    with _lock:
        _inside -= 1
        if _inside == 0:
            if _resume:
                gc.enable()
            return
        now = time.monotonic()
        sweep = _resume and now - _last_sweep >= SWEEP_SECONDS
        if sweep:
            _last_sweep = now
    if sweep:
        # Generations 0 and 1 only: what is young, not the whole heap.
        gc.collect(1)


@contextlib.contextmanager
def paused():
    """``with paused(): ...`` or ``@paused()``: the collector is off inside."""
    _enter()
    try:
        yield
    finally:
        _leave()
