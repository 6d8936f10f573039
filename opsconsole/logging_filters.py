"""Filters of the log configuration in settings.LOGGING."""

import logging


class NoTracebackForClientErrors(logging.Filter):
    """An ordinary 4xx (a 403 for a missing role, a 404) is the caller's
    doing: ``django.request`` still logs its one line, without the traceback
    Django attaches to it. Server errors keep theirs."""

    def filter(self, record):
        status = getattr(record, "status_code", None)
        if status is not None and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
