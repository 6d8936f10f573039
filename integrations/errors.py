"""Domain errors of the integrations writers (``sync_exceptions``,
``replays``): no HTTP here. The API (``opsconsole.errors.exception_handler``)
answers ``Invalid`` with 400, ``NotPermitted`` with 403 and ``Conflict`` with
409; the pages show them as messages."""

from opsconsole.domain_errors import Conflict, DomainError, Invalid, NotPermitted

__all__ = ["Conflict", "DomainError", "IllegalTransition", "Invalid", "InvalidAssignee", "NotPermitted"]


class IllegalTransition(Conflict):
    """The exception is not in a state that allows the action."""


class InvalidAssignee(Invalid):
    """The assignee is not a partner-wide user of the exception's partner."""

    def __init__(self, message):
        super().__init__({"assignee": [message]})
        self.message = message

    def __str__(self):
        return self.message
