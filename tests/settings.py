"""Test settings: tasks run inline, private webhook targets allowed (the tests
run their own local receivers), fast hashing, plain static storage."""

import os

os.environ.setdefault("OPSCONSOLE_Q_SYNC", "1")
os.environ.setdefault("OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS", "1")
os.environ.setdefault("OPSCONSOLE_PLAIN_STATIC", "1")
# The test client and live servers speak plain HTTP; subprocesses inherit both.
os.environ.setdefault("OPSCONSOLE_INSECURE_HTTP", "1")
# Tests sign in once and then travel weeks ahead (time-machine): sessions outlive that.
os.environ.setdefault("OPSCONSOLE_SESSION_HOURS", str(24 * 365))
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-never-used-in-production-0123456789")

from opsconsole.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"key": "100000/min"}}  # noqa: F405
