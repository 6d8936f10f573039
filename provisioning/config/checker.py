"""Typed reads of a parsed configuration document that record a Problem,
naming the value's path, instead of raising at the first one."""

import re
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from opsconsole.lib.outbound_urls import url_problem
from provisioning.config.errors import Problem

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def join(path, key):
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Checker:
    """Typed reads of a parsed document that record problems instead of raising."""

    def __init__(self):
        self.problems = []

    def problem(self, path, message):
        self.problems.append(Problem(path, message))

    def mapping(self, value, path, allowed, required=()):
        if not isinstance(value, dict):
            self.problem(path, f"must be a mapping, not {kind_of(value)}")
            return None
        for key in value:
            if not isinstance(key, str) or key not in allowed:
                self.problem(join(path, str(key)), f"unknown key (expected one of: {', '.join(allowed)})")
        for key in required:
            if value.get(key) is None:
                self.problem(join(path, key), "is required")
        return value

    def items(self, value, path):
        """A list (None counts as empty)."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, f"must be a list, not {kind_of(value)}")
            return []
        return value

    def string(self, value, path, *, max_length=200, default="", pattern=None, hint="", multiline=False):
        if value is None:
            return default
        if not isinstance(value, str):
            self.problem(
                path, f"must be a string, not {kind_of(value)}{' (quote it)' if isinstance(value, int | float) else ''}"
            )
            return default
        if "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            self.problem(path, "must not contain NUL characters or unpaired surrogates")
            return default
        if not multiline and any(ord(c) < 32 or ord(c) == 127 for c in value):
            self.problem(path, "must not contain control characters or line breaks")
            return default
        if len(value) > max_length:
            self.problem(path, f"must be at most {max_length} characters")
            return default
        if pattern is not None and not pattern.match(value):
            self.problem(path, f"{value!r} is not valid{': ' + hint if hint else ''}")
            return default
        return value

    def slug(self, value, path, what="slug"):
        return self.string(value, path, max_length=63, pattern=SLUG, hint=f"a {what} uses a-z, 0-9 and '-'")

    def choice(self, value, path, choices, default=None):
        if value is None:
            return default
        if not isinstance(value, str) or value not in choices:
            self.problem(path, f"{value!r} is not one of: {', '.join(choices)}")
            return default
        return value

    def integer(self, value, path, *, minimum=0, maximum=2_147_483_647, default=None):
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(path, f"must be a whole number, not {kind_of(value)}")
            return default
        if not minimum <= value <= maximum:
            self.problem(path, f"must be between {minimum} and {maximum}")
            return default
        return value

    def boolean(self, value, path, default=False):
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(path, f"must be true or false, not {kind_of(value)}")
            return default
        return value

    def email(self, value, path):
        text = self.string(value, path, max_length=254)
        if not text:
            return None
        try:
            validate_email(text)
        except ValidationError:
            self.problem(path, f"{text!r} is not a valid e-mail address")
            return None
        return text.lower()

    def timestamp(self, value, path):
        if isinstance(value, datetime):
            parsed = value
        else:
            text = self.string(value, path, max_length=64)
            if not text:
                return None
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                self.problem(path, f"{text!r} is not an ISO 8601 timestamp")
                return None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            self.problem(path, "must carry a UTC offset (such as Z or -06:00)")
            return None
        return parsed

    def url(self, value, path, *, check_target=True):
        text = self.string(value, path, max_length=2000)
        if not text:
            return ""
        problem = url_problem(text) if check_target else None
        if problem:
            self.problem(path, problem)
            return ""
        return text


def kind_of(value):
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "true/false",
        int: "a number",
        float: "a number",
        type(None): "empty",
    }.get(type(value), type(value).__name__)


def declared(docs, key):
    """The names a list of mappings declares, even where other fields of an
    entry are wrong (so one mistake does not cascade into "unknown" errors)."""
    if not isinstance(docs, list):
        return set()
    return {d[key] for d in docs if isinstance(d, dict) and isinstance(d.get(key), str)}


class Known:
    """Names a reference may use: what the file declares, plus (unless pruned)
    what already exists."""

    def __init__(self, declared, existing, prune):
        self.declared = set(declared)
        self.existing = set(existing)
        self.prune = prune

    def check(self, checker, path, name, what):
        if name is None or name in self.declared:
            return True
        if name in self.existing:
            if self.prune:
                checker.problem(path, f"{what} {name!r} is not in the file and would be deleted by --prune")
                return False
            return True
        checker.problem(path, f"unknown {what} {name!r}")
        return False
