"""Report sync runs to opsconsole, spool them while it is unavailable, claim
replays and verify signed deliveries. See the package's README.md."""

__version__ = "0.1.0"

from opsconsole_worker.client import Client, ConfigurationError, FlushResult  # noqa: E402
from opsconsole_worker.replays import Replay, ReplayLoopError, ReplayRecord  # noqa: E402
from opsconsole_worker.run import RunReport  # noqa: E402
from opsconsole_worker.signature import SignatureError, verify_signature  # noqa: E402

__all__ = [
    "Client",
    "ConfigurationError",
    "FlushResult",
    "Replay",
    "ReplayLoopError",
    "ReplayRecord",
    "RunReport",
    "SignatureError",
    "verify_signature",
    "__version__",
]
