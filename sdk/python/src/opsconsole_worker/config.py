"""Where the client finds its console, key and spool folder."""

import os
import sys

URL_VARIABLE = "OPSCONSOLE_URL"
KEY_VARIABLE = "OPSCONSOLE_KEY"
SPOOL_VARIABLE = "OPSCONSOLE_SPOOL"
TIMEOUT_VARIABLE = "OPSCONSOLE_TIMEOUT"
DEFAULT_TIMEOUT = 5.0


def default_spool():
    """A per-user cache folder: ``~/.cache/opsconsole-worker/spool`` (or under
    ``$XDG_CACHE_HOME``) on Linux, ``~/Library/Caches/...`` on macOS,
    ``%LOCALAPPDATA%\\opsconsole-worker\\spool`` on Windows."""
    if sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Caches")
    elif os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "opsconsole-worker", "spool")


def spool_folder(explicit=None):
    return os.fspath(explicit) if explicit else (os.environ.get(SPOOL_VARIABLE) or default_spool())


def timeout_seconds(explicit=None):
    if explicit is not None:
        return float(explicit)
    try:
        return float(os.environ.get(TIMEOUT_VARIABLE) or DEFAULT_TIMEOUT)
    except ValueError:
        return DEFAULT_TIMEOUT
