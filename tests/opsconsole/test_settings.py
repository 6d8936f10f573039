"""Production settings (contract 9): refuse to start without a secret key
when not in debug mode, and pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3Jx9-pQ2vLz7WmR4tYb8NcE1sHa6UoD5fGi0ZeXwVyTqPnMlKjBhCgAdSrFuOi"


def manage(*args, env):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OPSCONSOLE_", "DATABASE_URL"))}
    base.update({"DJANGO_SETTINGS_MODULE": "opsconsole.settings", "DATABASE_URL": "sqlite:////tmp/unused.sqlite3"})
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", env={"DJANGO_DEBUG": "0"})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "DJANGO_SECRET_KEY is not set" in result.stderr


def test_debug_mode_starts_without_a_secret_key():
    assert manage("check", env={"DJANGO_DEBUG": "1"}).returncode == 0


def test_the_deployment_checks_pass_in_production():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env={"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": STRONG_KEY}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_plain_http_for_local_use_is_an_explicit_switch():
    env = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": STRONG_KEY}
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
    )
    secure = manage("shell", "-v", "0", "-c", code, env=env)
    plain = manage("shell", "-v", "0", "-c", code, env={**env, "OPSCONSOLE_INSECURE_HTTP": "1"})
    assert secure.stdout.split() == ["True", "True", "31536000"]
    assert plain.stdout.split() == ["False", "False", "0"]
