"""The SDK is a package of its own: it builds as a wheel, installs with its
console script, and uses nothing newer than Python 3.9."""

import subprocess
import sys
from pathlib import Path

from tests.sdk.live_console import ROOT

SDK = ROOT / "sdk" / "python"
VERMIN = Path(sys.executable).parent / "vermin"


def test_the_sdk_builds_as_a_wheel_whose_command_runs(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(SDK), "-w", tmp_path],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    [wheel] = tmp_path.glob("opsconsole_worker-*.whl")
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", target, wheel],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    version = subprocess.run(
        [target / "bin" / "opsconsole-worker", "--version"],
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == "opsconsole-worker 0.1.0"


def test_the_sdk_needs_nothing_newer_than_python_3_9():
    check = subprocess.run(
        [VERMIN, "--target=3.9-", "--eval-annotations", "--no-tips", "--violations", str(SDK / "src")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
