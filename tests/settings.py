"""Test settings: tasks run inline, private webhook targets allowed (the tests
run their own local receivers), fast hashing, plain static storage."""

import os

os.environ.setdefault("OPSCONSOLE_Q_SYNC", "1")
os.environ.setdefault("OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS", "1")
os.environ.setdefault("OPSCONSOLE_PLAIN_STATIC", "1")

from opsconsole.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"key": "100000/min"}}  # noqa: F405
