"""``opsconsole-worker wrap``: run a command and report it as a run.

1. Post ``running`` (or spool it) before the command starts.
2. Run the command; copy its standard output and error through unchanged and
   keep the last lines of both, in order, stdout as ``info`` and stderr as
   ``error`` logs.
3. Post ``succeeded`` for exit status 0, ``failed`` otherwise, with those
   lines; exit with the command's own status (128 + N after signal N, 127
   when it cannot be found, 126 when it cannot be run).
"""

import collections
import signal
import subprocess
import sys
import threading
from datetime import datetime, timezone

from opsconsole_worker.run import clip

# Output lines of the command sent as logs.
KEPT_LINES = 100
LINE_BYTES = 8 * 1024


def _pump(stream, sink, level, lines, lock):
    for raw in iter(stream.readline, b""):
        try:
            sink.write(raw)
            sink.flush()
        except (OSError, ValueError):
            pass  # our own output closed: keep collecting
        text = clip(raw.decode("utf-8", "replace").rstrip("\r\n"), LINE_BYTES)
        with lock:
            lines.append((datetime.now(timezone.utc), level, text))
    stream.close()


def _run_command(command, lines):
    """Run ``command``, collect its output into ``lines``; returns its status."""
    lock = threading.Lock()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603
    pumps = [
        threading.Thread(target=_pump, args=(process.stdout, sys.stdout.buffer, "info", lines, lock), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, sys.stderr.buffer, "error", lines, lock), daemon=True),
    ]
    for pump in pumps:
        pump.start()
    previous = {}

    def forward(signum, frame):
        if process.poll() is None:
            process.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        try:
            previous[signum] = signal.signal(signum, forward)
        except (ValueError, OSError, AttributeError):  # not the main thread, or no such signal
            pass
    try:
        while True:
            try:
                code = process.wait()
                break
            except KeyboardInterrupt:
                # The terminal sent SIGINT to the command too; wait for its end.
                continue
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    for pump in pumps:
        pump.join(5)
    return code


def exit_status(code):
    return 128 - code if code < 0 else code


def describe(code):
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"command killed by {name}"
    return f"command exited with status {code}"


def wrap(client, integration, command, run_id=None, trigger="schedule"):
    """Run ``command`` (a list) reporting it as a run of ``integration``
    through ``client`` (None: just run it). Returns the exit status to use."""
    report = client.run(integration, run_id=run_id, trigger=trigger) if client is not None else None
    if report is not None:
        report.start()
    lines = collections.deque(maxlen=KEPT_LINES)
    try:
        code = _run_command(command, lines)
        status, summary = exit_status(code), describe(code)
    except OSError as exc:
        status = 127 if isinstance(exc, FileNotFoundError) else 126
        summary = f"command {'not found' if status == 127 else 'cannot be run'}: {command[0]} ({exc.strerror or exc})"
        print(f"opsconsole-worker: {summary}", file=sys.stderr)
    if report is not None:
        for at, level, text in list(lines):
            report.log(level, text, at=at)
        report.log("info" if status == 0 else "error", summary)
        report.finish("succeeded" if status == 0 else "failed")
    return status
