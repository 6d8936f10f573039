"""
WSGI config for opsconsole project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsconsole.settings")

application = get_wsgi_application()

# The URLconf and every view module it names, loaded now rather than by the
# first request, so that they are frozen below with the rest.
get_resolver().url_patterns  # noqa: B018 - loading is the point

# Everything loaded so far lives as long as the process: moved out of the
# cyclic garbage collector's reach, so that its full collections, frequent
# while ingest decodes large batches, walk only what requests create.
gc.collect()
gc.freeze()
