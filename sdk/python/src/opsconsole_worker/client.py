"""The client: sends documents to the console, or spools them when it cannot."""

import logging
import os
import socket
import time

from opsconsole_worker import __version__, config, transport
from opsconsole_worker.protocol import (  # noqa: F401 - the client's names, as before
    BATCH_BYTES,
    BATCH_PATH,
    BATCH_SIZE,
    CLAIM_PATH,
    COOLDOWN_SECONDS,
    LOST,
    REJECTED,
    RUNS_PATH,
    SENT,
    SPOOLED,
    FlushResult,
)
from opsconsole_worker.spool import Spool

log = logging.getLogger("opsconsole_worker")


class ConfigurationError(ValueError):
    """The console's URL or the key is missing."""


class Client:
    """Reports to the console at ``url`` with ``key``.

    ``url``, ``key`` and ``spool`` default to ``OPSCONSOLE_URL``,
    ``OPSCONSOLE_KEY`` and ``OPSCONSOLE_SPOOL`` (else a per-user cache folder).
    ``timeout`` (default 5 s, or ``OPSCONSOLE_TIMEOUT``) bounds each request
    and the time a report spends sending older spooled documents, so a job is
    never held up long by an unavailable console. ``worker`` adds to the
    ``worker`` object of each run (name, version)."""

    def __init__(self, url=None, key=None, spool=None, timeout=None, worker=None):
        self.url = (url or os.environ.get(config.URL_VARIABLE) or "").rstrip("/")
        self.key = key or os.environ.get(config.KEY_VARIABLE) or ""
        if not self.url:
            raise ConfigurationError(f"No console URL: pass url= or set {config.URL_VARIABLE}.")
        if not self.key:
            raise ConfigurationError(f"No API key: pass key= or set {config.KEY_VARIABLE}.")
        self.spool = Spool(config.spool_folder(spool))
        self.timeout = config.timeout_seconds(timeout)
        self.worker = {"host": socket.gethostname()[:200], "sdk": f"opsconsole-worker/{__version__}", **(worker or {})}
        self._unavailable_until = 0.0
        self.last_error = ""

    def __repr__(self):
        return f"Client(url={self.url!r}, spool={self.spool.folder!r})"

    # -- public ---------------------------------------------------------------------

    def run(self, integration, run_id=None, *, trigger="schedule", replay_id=None, lag_seconds=None):
        """A run report, used as a context manager: posts ``running`` on entry
        and the outcome on exit (see ``RunReport``)."""
        from opsconsole_worker.run import RunReport

        return RunReport(
            self, integration, run_id=run_id, trigger=trigger, replay_id=replay_id, lag_seconds=lag_seconds
        )

    def report(self, document):
        """Send one run document (contract 3.1); returns ``"sent"``,
        ``"spooled"``, ``"rejected"`` or ``"lost"`` (the spool could not be
        written: see the log). Never raises for the console's sake."""
        key = f"run:{document.get('integration')}:{document.get('run_id')}"
        return self.send("run", RUNS_PATH, key, document)

    def send_result(self, replay_id, result):
        """Send a replay's outcome (contract 3.4), spooled like a run."""
        return self.send("result", f"/api/v1/replays/{replay_id}/result", f"result:{replay_id}", result)

    def flush(self, max_seconds=None, batch_size=BATCH_SIZE):
        """Send the spool, oldest first, runs in batches of ``batch_size``.
        Stops when the spool is empty, when the console cannot be reached,
        or after ``max_seconds``. Returns a FlushResult."""
        from opsconsole_worker.flush import flush

        return flush(self, max_seconds, batch_size)

    def replays(self, integration, handler, lease_seconds=300, **options):
        """Claim the integration's replays in a loop and report what ``handler``
        returns for each (see ``opsconsole_worker.replays.replay_loop``)."""
        from opsconsole_worker.replays import replay_loop

        return replay_loop(self, integration, handler, lease_seconds=lease_seconds, **options)

    def handle_replay(self, document, handler):
        """Handle one replay document that was pushed to the worker (check
        its signature first with ``verify_signature``): call ``handler`` and
        post its outcome, as the loop does. Returns the result posted."""
        from opsconsole_worker.replays import handle_one

        return handle_one(self, document, handler)[1]

    @property
    def available(self):
        """False for a while after the console could not be reached."""
        return time.monotonic() >= self._unavailable_until

    # -- sending ----------------------------------------------------------------------

    def post(self, path, document, timeout=None):
        """One POST; marks the console unavailable when it did not answer."""
        answer = transport.post_json(self.url, path, self.key, document, timeout or self.timeout)
        if answer.outcome == transport.RETRY:
            self.mark_unavailable(answer)
        return answer

    def mark_unavailable(self, answer):
        pause = answer.retry_after if answer.retry_after is not None else COOLDOWN_SECONDS
        self._unavailable_until = time.monotonic() + pause
        self.last_error = answer.describe()

    def send(self, kind, path, key, document):
        """Send now, or spool. Documents already spooled for the same key go
        first, so the console sees one run's documents in order."""
        try:
            if not self.available:
                self.spool.put(kind, path, key, document, reason=f"console unavailable: {self.last_error}")
                return SPOOLED
            if self.spool.has_pending(key):
                self.spool.put(kind, path, key, document, reason="queued behind earlier documents of this key")
                self.flush(max_seconds=self.timeout)
                return SPOOLED
            answer = self.post(path, document)
            if answer.ok:
                if self.spool.pending():
                    self.flush(max_seconds=self.timeout)
                return SENT
            if answer.outcome == transport.REJECTED:
                self._keep_rejected(kind, path, key, document, answer)
                return REJECTED
            self.spool.put(kind, path, key, document, reason=answer.describe())
            log.warning("console unavailable (%s); %s spooled in %s", answer.describe(), key, self.spool.folder)
            return SPOOLED
        except Exception:
            log.exception("could not report %s to the console nor write it to the spool", key)
            return LOST

    def _keep_rejected(self, kind, path, key, document, answer):
        self.spool.put_rejected(kind, path, key, document, answer.status, answer.body)
