"""Static files that work after ``migrate`` alone (contract section 9).

``collectstatic`` stays the fast path: it writes hashed, compressed copies
and a manifest under STATIC_ROOT, and WhiteNoise serves them. Without it,
``ConsoleStaticStorage`` hashes a file found by the finders from its source
bytes, the first time a page names it, and ``ConsoleStaticMiddleware``
serves that hashed name from the source file. Either way a page links to
``css/console.<hash>.css`` and every hashed name is served as immutable for
a year; unhashed names keep WhiteNoise's short max-age.
"""

import warnings
from urllib.parse import unquote, urlsplit

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files import File
from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.storage import CompressedManifestStaticFilesStorage


class ConsoleStaticStorage(CompressedManifestStaticFilesStorage):
    """Manifest storage that falls back to the finders' files when a name
    is not in the manifest (no collectstatic, or a file added since)."""

    manifest_strict = False

    def hashed_name(self, name, content=None, filename=None):
        path = urlsplit(unquote(filename or name)).path.strip()
        if content is None and not self.exists(path):
            source = finders.find(path)
            if source is None:
                raise ValueError(f"The static file '{path}' could not be found.")
            with File(open(source, "rb")) as content:  # noqa: SIM115 - File closes it
                return super().hashed_name(name, content=content, filename=filename)
        return super().hashed_name(name, content=content, filename=filename)

    def source_names(self):
        """{name: source path} of every file the finders list, under its
        plain name and its hashed name (the first finder's file wins)."""
        names = {}
        for finder in finders.get_finders():
            for path, storage in finder.list(None):
                prefix = (getattr(storage, "prefix", None) or "").strip("/")
                name = (f"{prefix}/{path}" if prefix else path).replace("\\", "/")
                if name in names:
                    continue
                names[name] = storage.path(path)
                try:
                    names.setdefault(self.stored_name(name), names[name])
                except ValueError:
                    continue
        return names


class ConsoleStaticMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, plus the hashed names of the finders' files when
    collectstatic has not written them (see the module docstring)."""

    # Hashed names are immutable for a year (the longest cache life RFC 9111
    # advises); WhiteNoise's own default is ten years.
    FOREVER = 365 * 24 * 60 * 60

    def __init__(self, *args, **kwargs):
        # Without collectstatic there is no STATIC_ROOT: expected, not a warning.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
            super().__init__(*args, **kwargs)

    def add_files_from_finders(self):
        storage = staticfiles_storage
        if not hasattr(storage, "source_names"):
            return super().add_files_from_finders()
        # Files collectstatic wrote (with their compressed copies) come first.
        for name, path in storage.source_names().items():
            url = self.static_prefix + name
            if url not in self.files:
                self.add_file_to_dictionary(url, path)
