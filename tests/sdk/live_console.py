"""The console as a real process: gunicorn serving opsconsole.wsgi on a free
local port, against the test database (see tests.integrations.live_database),
that a test can start, stop and start again on the same address."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.integrations.live_database import Database

ROOT = Path(__file__).resolve().parents[2]
SDK_SOURCE = ROOT / "sdk" / "python" / "src"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Console:
    def __init__(self, tmp_path):
        self.database = Database(tmp_path)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "console.log"
        self.process = None
        self._env = None

    def start(self, timeout=30):
        if self._env is None:  # on SQLite: a copy of the test database as it is now
            self._env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "tests.settings",
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
                **self.database.env(),
            }
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the process
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "opsconsole.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--threads",
                "8",
                "--graceful-timeout",
                "1",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=self._env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the console exited: {self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2):  # noqa: S310 - local
                    return self
            except urllib.error.HTTPError:
                return self  # 503 (no queue worker here) still means it answers
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the console did not start: {self.log()}")

    def stop(self):
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGINT)  # gunicorn: quick shutdown
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def log(self):
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def metric(self, name, **labels):
        """A counter from the console's /metrics (one web process: its own)."""
        text = urllib.request.urlopen(f"{self.url}/metrics", timeout=5).read().decode()  # noqa: S310 - local
        label_text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        wanted = f"{name}{{{label_text}}}" if label_text else name
        for line in text.splitlines():
            if line.startswith(wanted + " "):
                return float(line.split()[-1])
        return 0.0

    def read_back(self):
        """On SQLite, copy what the console wrote back into the test database."""
        self.database.read_back()


def sdk_env(console, spool, key, **extra):
    """The environment of a worker process using the SDK from this checkout."""
    return {
        **os.environ,
        "PYTHONPATH": str(SDK_SOURCE),
        "OPSCONSOLE_URL": console.url,
        "OPSCONSOLE_KEY": key,
        "OPSCONSOLE_SPOOL": str(spool),
        "OPSCONSOLE_TIMEOUT": "5",
        **extra,
    }
