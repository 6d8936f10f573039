"""One run's report (contract 3.1), built while the job works."""

import logging
import secrets
import traceback
from collections import OrderedDict
from datetime import datetime, timezone

log = logging.getLogger("opsconsole_worker")

# The console's limits (contract 3.1): documents beyond them would be refused.
MAX_LOGS = 1000
MAX_FAILURES = 10_000
MAX_LOG_MESSAGE_BYTES = 8 * 1024
MAX_FAILURE_MESSAGE_BYTES = 64 * 1024
MAX_ID = 200

LEVELS = ("debug", "info", "warning", "error", "critical")
_LEVEL_ALIASES = {"warn": "warning", "fatal": "critical", "exception": "error"}


def iso(moment):
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_utc():
    return datetime.now(timezone.utc)


def new_run_id(moment=None):
    """Time and randomness: ``20261126T100000Z-3f9a1c2e``."""
    moment = moment or now_utc()
    return f"{moment.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"


def level_name(level):
    """A contract level from a name (any case, ``warn`` too) or a logging number."""
    if isinstance(level, int):
        for threshold, name in ((50, "critical"), (40, "error"), (30, "warning"), (20, "info")):
            if level >= threshold:
                return name
        return "debug"
    name = str(level).strip().lower()
    name = _LEVEL_ALIASES.get(name, name)
    return name if name in LEVELS else "info"


def clip(text, limit_bytes):
    """``text`` cut to at most ``limit_bytes`` of UTF-8, on a character boundary."""
    text = str(text)
    data = text.encode("utf-8", "replace")
    if len(data) <= limit_bytes:
        return text
    return data[: limit_bytes - 3].decode("utf-8", "ignore") + "..."


class RunReport:
    """A run being reported. As a context manager it posts ``running`` on
    entry; on exit it posts ``failed`` if an exception escaped (and lets it
    propagate), ``partial`` if failures were reported, else ``succeeded``,
    unless ``status`` was set explicitly."""

    def __init__(self, client, integration, run_id=None, *, trigger="schedule", replay_id=None, lag_seconds=None):
        self.client = client
        self.integration = integration
        self.started_at = now_utc()
        self.run_id = str(run_id) if run_id else new_run_id(self.started_at)
        self.trigger = trigger
        self.replay_id = str(replay_id) if replay_id else None
        self.lag_seconds = lag_seconds
        self.finished_at = None
        self.status = None
        self.counts = {}
        self.worker = dict(client.worker)
        self._logs = []
        self._dropped_logs = 0
        self._failures = OrderedDict()
        self._dropped_failures = set()
        self._recovered = OrderedDict()

    def __repr__(self):
        return f"RunReport({self.integration!r}, {self.run_id!r})"

    # -- what the job says ------------------------------------------------------------

    def log(self, level, message, context=None, at=None):
        """A log line; the last 1,000 are kept, each up to 8 KiB."""
        entry = {
            "at": iso(at or now_utc()),
            "level": level_name(level),
            "message": clip(message, MAX_LOG_MESSAGE_BYTES),
        }
        if context:
            entry["context"] = context
        self._logs.append(entry)
        if len(self._logs) > MAX_LOGS:
            del self._logs[0]
            self._dropped_logs += 1

    def failure(self, entity, record_id, message, **fields):
        """A record that failed. ``fields``: operation, error_code, error_class,
        payload, response, fingerprint, occurred_at, source_changed_at (datetime
        or ISO text), amount and currency (passed through as given). The last
        failure of an (entity, record_id) wins, as on the console."""
        key = (str(entity)[:MAX_ID], str(record_id)[:MAX_ID])
        item = {"entity": key[0], "record_id": key[1], "message": clip(message, MAX_FAILURE_MESSAGE_BYTES)}
        for name, value in fields.items():
            if value is None:
                continue
            item[name] = iso(value) if isinstance(value, datetime) else value
        if key in self._failures or len(self._failures) < MAX_FAILURES:
            self._failures[key] = item
        else:
            self._dropped_failures.add(key)

    def recovered(self, entity, record_id):
        """A record that failed in an earlier run and went through in this one."""
        key = (str(entity)[:MAX_ID], str(record_id)[:MAX_ID])
        self._recovered[key] = {"entity": key[0], "record_id": key[1]}

    def records(self, processed=None, succeeded=None, failed=None, skipped=None):
        """Set record counts; ``failed`` defaults to the failures reported."""
        for name, value in (
            ("processed", processed),
            ("succeeded", succeeded),
            ("failed", failed),
            ("skipped", skipped),
        ):
            if value is not None:
                self.counts[name] = int(value)

    def add(self, succeeded=0, failed=0, skipped=0):
        """Add to the record counts (for jobs that count as they go)."""
        for name, value in (("succeeded", succeeded), ("failed", failed), ("skipped", skipped)):
            if value:
                self.counts[name] = self.counts.get(name, 0) + int(value)

    def lag(self, seconds):
        """Record a source-to-target delay; the run reports the largest."""
        seconds = max(0, int(seconds))
        self.lag_seconds = seconds if self.lag_seconds is None else max(self.lag_seconds, seconds)

    # -- the document -------------------------------------------------------------------

    def document(self):
        """The run document as it stands (contract 3.1)."""
        status = self.status or "running"
        records = {"failed": len(self._failures) + len(self._dropped_failures), **self.counts}
        doc = {
            "integration": self.integration,
            "run_id": self.run_id,
            "status": status,
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at) if self.finished_at and status != "running" else None,
            "trigger": self.trigger,
            "records": records,
            "worker": self.worker,
        }
        if self.replay_id:
            doc["replay_id"] = self.replay_id
        if self.lag_seconds is not None:
            doc["lag_seconds"] = int(self.lag_seconds)
        logs = list(self._logs)
        if self._dropped_logs:
            logs[0] = {
                **logs[0],
                "level": "warning",
                "message": f"[{self._dropped_logs + 1} earlier log lines dropped]",
            }
        doc["logs"] = logs
        doc["failures"] = list(self._failures.values())
        if self._recovered:
            doc["recovered"] = list(self._recovered.values())
        return doc

    # -- start and finish -------------------------------------------------------------

    def start(self):
        """Post ``running``. Returns how it went (``sent``, ``spooled``, ...)."""
        doc = self.document()
        doc.update(status="running", finished_at=None, logs=[], failures=[])
        doc.pop("recovered", None)
        return self.client.report(doc)

    def finish(self, status=None):
        """Post the outcome: ``status``, else the one set, else ``partial``
        when failures were reported, else ``succeeded``."""
        self.finished_at = now_utc()
        failed = self.counts.get("failed", len(self._failures) + len(self._dropped_failures))
        self.status = status or self.status or ("partial" if failed else "succeeded")
        return self.client.report(self.document())

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and not _clean_exit(exc):
            lines = traceback.format_exception(exc_type, exc, tb)
            self.log("critical", "".join(lines)[-MAX_LOG_MESSAGE_BYTES:])
            self.finish("failed")
        else:
            self.finish()
        return False


def _clean_exit(exc):
    """``sys.exit(0)`` inside a run is a normal end, not a failure."""
    return isinstance(exc, SystemExit) and exc.code in (0, None)
