"""Parse ``EMAIL_URL`` (contract section 9) into Django's EMAIL_* settings.

Forms: ``smtp://user:pass@host:25``, ``smtp+tls://…:587`` (STARTTLS),
``smtps://…:465`` (implicit TLS), ``console://``, ``memory://``."""

from urllib.parse import unquote, urlsplit

BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtp+tls": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "memory": "django.core.mail.backends.locmem.EmailBackend",
}


def parse_email_url(url):
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in BACKENDS:
        raise ValueError(f"EMAIL_URL: unsupported scheme {scheme!r} (use one of {', '.join(sorted(BACKENDS))})")
    config = {"EMAIL_BACKEND": BACKENDS[scheme]}
    if scheme.startswith("smtp"):
        config.update(
            EMAIL_HOST=parts.hostname or "localhost",
            EMAIL_PORT=parts.port or {"smtp": 25, "smtp+tls": 587, "smtps": 465}[scheme],
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_TLS=scheme == "smtp+tls",
            EMAIL_USE_SSL=scheme == "smtps",
        )
    return config
