"""Process-local Prometheus counters (ingest counts and errors).

Each web worker process counts its own; Prometheus sums them across scrapes of
every worker, as with any multi-process exporter without shared memory."""

import threading
from collections import defaultdict

_lock = threading.Lock()
_counters = defaultdict(int)

HELP = {
    "opsconsole_ingest_runs_total": "Runs accepted by the worker API, by result (created, updated).",
    "opsconsole_ingest_failures_total": "Failure records accepted by the worker API.",
    "opsconsole_ingest_rejected_total": "Runs or requests rejected by the worker API, by reason.",
}


def inc(name, amount=1, **labels):
    key = (name, tuple(sorted(labels.items())))
    with _lock:
        _counters[key] += amount


def render_counters():
    with _lock:
        items = sorted(_counters.items())
    lines = []
    seen = set()
    for name in HELP:
        lines.append(f"# HELP {name} {HELP[name]}")
        lines.append(f"# TYPE {name} counter")
        seen.add(name)
        rows = [(labels, value) for (n, labels), value in items if n == name]
        if not rows:
            lines.append(f"{name} 0")
        for labels, value in rows:
            label_text = ",".join(f'{k}="{v}"' for k, v in labels)
            lines.append(f"{name}{{{label_text}}} {value}" if label_text else f"{name} {value}")
    return lines
