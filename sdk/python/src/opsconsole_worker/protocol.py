"""What the worker and the console agree on: the API paths, the batch
limits, the outcomes of a send and what a flush did. A module of its own so
that the client, the flush and the replay loop share it without importing
one another."""

RUNS_PATH = "/api/v1/runs"
BATCH_PATH = "/api/v1/runs/batch"
CLAIM_PATH = "/api/v1/replays/claim"
# Runs per batch request, and their bytes (the console takes 1,000 runs and 10 MiB).
BATCH_SIZE = 500
BATCH_BYTES = 4 * 1024 * 1024
# After a failed request the console is treated as unavailable this long
# (or for its Retry-After), so a job never waits for it twice in a row.
COOLDOWN_SECONDS = 30.0

SENT = "sent"
SPOOLED = "spooled"
REJECTED = "rejected"
LOST = "lost"


class FlushResult:
    """What a flush did: documents ``sent`` (``created`` and ``updated``
    among runs), ``rejected``, and ``remaining`` in the spool."""

    def __init__(self):
        self.sent = self.created = self.updated = self.rejected = 0
        self.remaining = 0
        self.error = ""

    def as_dict(self):
        return {
            "sent": self.sent,
            "created": self.created,
            "updated": self.updated,
            "rejected": self.rejected,
            "remaining": self.remaining,
            "error": self.error,
        }

    def __repr__(self):
        return f"FlushResult({self.as_dict()})"
