"""Settings for opsconsole, read from the environment (contract section 9)."""

import os
from pathlib import Path

import dj_database_url

from opsconsole.lib import timestamps

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG")
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or ("insecure-development-key-set-DJANGO_SECRET_KEY-in-production")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "opsconsole",
    "integrations",
    "sla",
    "governance",
    "portal",
    "alerts",
    "provisioning",
]

MIDDLEWARE = [
    "opsconsole.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "opsconsole.staticfiles.ConsoleStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "opsconsole.middleware.BrandingMiddleware",
    "opsconsole.middleware.ApiMethodMiddleware",
]

ROOT_URLCONF = "opsconsole.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "opsconsole.context_processors.branding",
            ],
        },
    },
]

WSGI_APPLICATION = "opsconsole.wsgi.application"

# DATABASE_URL selects PostgreSQL (psycopg 3); unset, an embedded SQLite file.
_database_url = os.environ.get("DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("OPSCONSOLE_SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # WAL plus IMMEDIATE transactions let the queue worker and the web
            # server write concurrently without "database is locked".
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("OPSCONSOLE_SQLITE_TEST_PATH") or None}

AUTH_USER_MODEL = "opsconsole.User"
CSRF_FAILURE_VIEW = "opsconsole.errors.csrf_failure"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("OPSCONSOLE_STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or env_bool("OPSCONSOLE_PLAIN_STATIC")
            else "opsconsole.staticfiles.ConsoleStaticStorage"
        )
    },
}
# Pages work after `migrate` alone: files collectstatic has not written are
# served from the finders, under hashed names too (opsconsole/staticfiles.py).
WHITENOISE_USE_FINDERS = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Contract section 8: a body over 10 MiB is a 413 (BodySizeLimitMiddleware).
MAX_BODY_BYTES = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# The bottom floor (opsconsole) imports no app: what it needs of one is named here.
OPSCONSOLE_KEY_LOOKUP = "integrations.keys.authenticate"
# Callables returning Prometheus text lines for /metrics, each app's gauges.
OPSCONSOLE_METRICS_GAUGES = ["integrations.metrics.open_exceptions", "alerts.metrics.lines"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "opsconsole.authentication.BearerKeyAuthentication",
        "opsconsole.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["opsconsole.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "opsconsole.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "opsconsole.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["opsconsole.throttling.KeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"key": os.environ.get("OPSCONSOLE_KEY_RATE", "1200/min")},
    "DATETIME_FORMAT": timestamps.FORMAT,  # the one format of answers (contract 8)
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "opsconsole API",
    "DESCRIPTION": "Worker API (runs, replays) and staff API (exceptions, runs, integrations, replays, SLA, alerts).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc served from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# django-q2 on the ORM broker. retry must exceed timeout, or a slow task runs
# twice; catch_up off so a restarted cluster does not replay missed schedules.
Q_CLUSTER = {
    "name": "opsconsole",
    "orm": "default",
    "workers": int(os.environ.get("OPSCONSOLE_Q_WORKERS", "2")),
    "timeout": int(os.environ.get("OPSCONSOLE_Q_TIMEOUT", "120")),
    "retry": int(os.environ.get("OPSCONSOLE_Q_RETRY", "180")),
    "max_attempts": 3,
    "catch_up": False,
    "save_limit": 5000,
    "poll": 0.5,
    "ack_failures": True,
    "sync": env_bool("OPSCONSOLE_Q_SYNC"),
}

OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS = env_bool("OPSCONSOLE_ALLOW_PRIVATE_WEBHOOKS")
OPSCONSOLE_DELIVERY_BACKOFF = [
    int(s) for s in os.environ.get("OPSCONSOLE_DELIVERY_BACKOFF", "10,60,300,1800,7200").split(",") if s.strip()
]
# Seconds a webhook has to answer a delivery (contract 3.6: 10 s); tests shorten it.
OPSCONSOLE_DELIVERY_TIMEOUT = float(os.environ.get("OPSCONSOLE_DELIVERY_TIMEOUT", "10"))
# Where links in alert messages point when the partner has no host name.
OPSCONSOLE_BASE_URL = os.environ.get("OPSCONSOLE_BASE_URL", "http://localhost:8000")

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "alerts@localhost")
# An alert e-mail that takes longer is a failed try (retried like webhooks).
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
if os.environ.get("EMAIL_URL"):
    from opsconsole.lib.email_url import parse_email_url

    globals().update(parse_email_url(os.environ["EMAIL_URL"]))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
    # WeasyPrint warns about every SVG style property of a chart it reads natively.
    "loggers": {"weasyprint": {"level": "ERROR"}, "fontTools": {"level": "ERROR"}},
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"
