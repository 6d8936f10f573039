"""What a write can refuse, said without HTTP.

Writers (``integrations.sync_exceptions``, ``integrations.replays``, …) raise
these, or subclasses named in their app's ``errors.py``; the API turns them
into answers (``opsconsole.errors.exception_handler``: 400, 403, 409) and the
pages into messages (``message_of``) or a 403 page. A refused write changes
nothing: raise inside the writer's transaction."""


class DomainError(Exception):
    """A write refused for a reason the caller can show as it is."""


class Invalid(DomainError):
    """The input is wrong: ``errors`` maps each field to its messages, nested
    as in contract 8 (``{"records": {"0": {"record_id": ["…"]}}}``)."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__(message_of_errors(errors))


class NotPermitted(DomainError):
    """The actor may see the object but not do this to it."""


class Conflict(DomainError):
    """The object is not in a state that allows this."""


def message_of_errors(errors):
    """One line for people: ``field: message …`` per field, joined by ``; ``."""
    if isinstance(errors, dict):
        parts = []
        for field, items in errors.items():
            text = message_of_errors(items)
            parts.append(text if field == "non_field_errors" else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(errors, list | tuple):
        return " ".join(message_of_errors(item) for item in errors)
    return str(errors)
