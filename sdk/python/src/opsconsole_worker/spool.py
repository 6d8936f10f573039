"""The spool: documents the console has not accepted yet, kept on disk.

Layout of the spool folder::

    pending/<time_ns>-<key>-<random>.json   waiting to be sent, oldest first
    rejected/<same name>.json               answered with a 4xx: kept with the answer
    tmp/                                    files being written (same file system)

Each file is an envelope ``{"kind", "path", "key", "spooled_at", "reason",
"document"}``; a rejected one adds ``{"rejected_at", "status", "answer"}``.

Files appear whole: they are written under ``tmp/``, synced, then renamed into
place. A sender holds an exclusive ``flock`` on each file it sends until the
file is gone, and other processes skip locked files, so two processes
flushing one spool never send the same document at once. Documents for the
same run (or replay result) are sent in the order they were spooled: a round
takes at most the oldest pending document of each key.
"""

import hashlib
import json
import logging
import os
import secrets
import time
from datetime import datetime, timezone

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locking (the console is idempotent)
    fcntl = None

log = logging.getLogger("opsconsole_worker")

PENDING = "pending"
REJECTED = "rejected"
TMP = "tmp"
# Temporary files older than this were left by a process that died while writing.
STALE_TMP_SECONDS = 3600


def utc_now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def key_digest(key):
    """12 hex characters naming a document's key (its run or replay) in file names."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def _key_of(name):
    parts = name.split("-")
    return parts[1] if len(parts) >= 3 else name


class Claimed:
    """A pending file this process has locked: its envelope and open handle."""

    def __init__(self, name, path, handle, envelope, size):
        self.name = name
        self.path = path
        self.handle = handle
        self.envelope = envelope
        self.size = size

    @property
    def kind(self):
        return self.envelope.get("kind")

    @property
    def document(self):
        return self.envelope.get("document")

    def release(self):
        if self.handle is not None:
            self.handle.close()  # closing the file drops the lock
            self.handle = None


class Spool:
    def __init__(self, folder):
        self.folder = os.path.abspath(os.fspath(folder))
        self.pending_dir = os.path.join(self.folder, PENDING)
        self.rejected_dir = os.path.join(self.folder, REJECTED)
        self.tmp_dir = os.path.join(self.folder, TMP)

    def __repr__(self):
        return f"Spool({self.folder!r})"

    def _ensure(self):
        for folder in (self.pending_dir, self.rejected_dir, self.tmp_dir):
            os.makedirs(folder, mode=0o700, exist_ok=True)

    # -- writing ------------------------------------------------------------------

    def _write_atomic(self, folder, name, data):
        self._ensure()
        fd, tmp_path = _mkstemp(self.tmp_dir, name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_path, os.path.join(folder, name))
        except BaseException:
            _unlink(tmp_path)
            raise
        _fsync_dir(folder)

    def put(self, kind, path, key, document, reason=""):
        """Write one document to ``pending/``; returns its file name."""
        name = _new_name(key)
        envelope = _envelope(kind, path, key, document, reason)
        self._write_atomic(self.pending_dir, name, _dumps(envelope))
        return name

    def put_rejected(self, kind, path, key, document, status, answer):
        """Keep a document the console refused on its first send."""
        item = Claimed(_new_name(key), None, None, _envelope(kind, path, key, document, "rejected"), 0)
        self.reject(item, status, answer)

    # -- reading ------------------------------------------------------------------

    def pending(self):
        """Names of the pending files, oldest first."""
        return _listing(self.pending_dir)

    def has_pending(self, key):
        digest = key_digest(key)
        return any(_key_of(name) == digest for name in self.pending())

    def rejected(self):
        """The rejected envelopes, oldest first, each with its ``file`` name."""
        items = []
        for name in _listing(self.rejected_dir):
            try:
                with open(os.path.join(self.rejected_dir, name), "rb") as handle:
                    envelope = json.loads(handle.read())
            except (OSError, ValueError):
                continue
            envelope["file"] = name
            items.append(envelope)
        return items

    def oldest_pending_age(self):
        """Seconds since the oldest pending document was spooled, or None."""
        names = self.pending()
        if not names:
            return None
        try:
            return max(0.0, (time.time_ns() - int(names[0].split("-")[0])) / 1e9)
        except ValueError:
            return None

    # -- claiming for sending -------------------------------------------------------

    def claim(self, limit=500, max_bytes=4 * 1024 * 1024):
        """Lock and read up to ``limit`` pending documents (at most ``max_bytes``
        of them, but always at least one), oldest first, at most one per key,
        skipping keys whose oldest document another process is sending."""
        self._remove_stale_tmp()
        claimed, seen, total = [], set(), 0
        for name in self.pending():
            key = _key_of(name)
            if key in seen:
                continue
            seen.add(key)
            item = self._lock(name)
            if item is None:
                continue
            if claimed and total + item.size > max_bytes:
                item.release()
                break
            claimed.append(item)
            total += item.size
            if len(claimed) >= limit:
                break
        return claimed

    def _lock(self, name):
        path = os.path.join(self.pending_dir, name)
        try:
            handle = open(path, "rb")  # kept open while the lock is held
        except FileNotFoundError:
            return None  # sent meanwhile by another process
        if not _try_lock(handle):
            handle.close()
            return None
        try:
            # The file may have been sent and removed between open and lock.
            same = os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
        except FileNotFoundError:
            same = False
        if not same:
            handle.close()
            return None
        raw = handle.read()
        try:
            envelope = json.loads(raw)
            if not isinstance(envelope, dict) or not isinstance(envelope.get("document"), dict):
                raise ValueError("not an envelope")
        except ValueError as exc:
            item = Claimed(name, path, handle, {"document": None, "raw": raw.decode("utf-8", "replace")}, len(raw))
            self.reject(item, None, f"unreadable spool file: {exc}")
            return None
        return Claimed(name, path, handle, envelope, len(raw))

    # -- outcomes -----------------------------------------------------------------

    def done(self, item):
        """The console took it: remove the file, then drop the lock."""
        _unlink(item.path)
        item.release()

    def reject(self, item, status, answer):
        """Keep the document in ``rejected/`` with the console's answer."""
        envelope = dict(item.envelope)
        envelope.update({"rejected_at": utc_now_iso(), "status": status, "answer": answer})
        self._write_atomic(self.rejected_dir, item.name, _dumps(envelope))
        if item.path is not None:
            _unlink(item.path)
        item.release()
        log.error(
            "the console rejected %s %s (HTTP %s): %s; kept in %s",
            envelope.get("kind") or "document",
            envelope.get("key") or item.name,
            status,
            json.dumps(answer, ensure_ascii=False)[:2000],
            os.path.join(self.rejected_dir, item.name),
        )

    def requeue(self):
        """Move every rejected document back to ``pending/``; returns how many."""
        moved = 0
        for envelope in self.rejected():
            name = envelope.pop("file")
            if not isinstance(envelope.get("document"), dict):
                continue
            for field in ("rejected_at", "status", "answer"):
                envelope.pop(field, None)
            envelope["reason"] = "requeued"
            self._write_atomic(self.pending_dir, name, _dumps(envelope))
            _unlink(os.path.join(self.rejected_dir, name))
            moved += 1
        return moved

    def _remove_stale_tmp(self):
        cutoff = time.time() - STALE_TMP_SECONDS
        for name in _listing(self.tmp_dir, suffix=""):
            path = os.path.join(self.tmp_dir, name)
            try:
                if os.stat(path).st_mtime < cutoff:
                    os.unlink(path)
            except OSError:
                pass


def _new_name(key):
    return f"{time.time_ns():020d}-{key_digest(key)}-{secrets.token_hex(4)}.json"


def _envelope(kind, path, key, document, reason):
    return {
        "kind": kind,
        "path": path,
        "key": key,
        "spooled_at": utc_now_iso(),
        "reason": reason,
        "document": document,
    }


def _dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _listing(folder, suffix=".json"):
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n.endswith(suffix) and not n.startswith("."))


def _mkstemp(folder, name):
    path = os.path.join(folder, f"{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), path


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _fsync_dir(folder):
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _try_lock(handle):
    if fcntl is None:
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):
        return False
    return True
