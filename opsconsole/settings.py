"""Settings for opsconsole, read from the environment (contract section 9)."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from opsconsole.lib import timestamps

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG")
# Production refuses to start without a key of its own; only a debug
# (development) instance falls back to a constant, never used elsewhere.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random value (for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`), or set DJANGO_DEBUG=1 for development."
        )
    SECRET_KEY = "insecure-development-key-only-with-DJANGO_DEBUG"  # noqa: S105 - debug only
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
    "axes",
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
    # Last, as django-axes requires: it answers a locked-out sign-in.
    "axes.middleware.AxesMiddleware",
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
                "opsconsole.navigation.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "opsconsole.wsgi.application"

# DATABASE_URL selects PostgreSQL (psycopg 3) or SQLite (sqlite:///path);
# unset, an embedded SQLite file.
_database_url = os.environ.get("DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("OPSCONSOLE_SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        }
    }
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Whenever the engine is SQLite (by URL too): WAL plus IMMEDIATE
    # transactions and a 20 s busy timeout let the queue worker and several
    # web processes write concurrently without "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("OPSCONSOLE_SQLITE_TEST_PATH") or None}

AUTH_USER_MODEL = "opsconsole.User"
CSRF_FAILURE_VIEW = "opsconsole.errors.csrf_failure"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Every password set through a form or a command (changepassword,
# createsuperuser, the admin) passes Django's full set of validators.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in throttling (django-axes, failures kept in the database so every web
# process counts them): OPSCONSOLE_LOGIN_FAILURES failed sign-ins in a row for
# one account, or from one address, lock that account or address out for
# OPSCONSOLE_LOGIN_COOLOFF_MINUTES; a locked-out attempt is refused even with
# the right password and answers 429 (opsconsole.lockout). A successful
# sign-in clears the account's count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("OPSCONSOLE_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("OPSCONSOLE_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own
AXES_USERNAME_CALLABLE = "opsconsole.lockout.username_of"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "opsconsole.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["password"]

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
# The API's error handler asks this whether a request names something outside
# the caller's reach (404 before 403, contract section 2).
OPSCONSOLE_REACH_CHECK = "integrations.reach.check_reach"
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
    # Error answers of every operation, tags, integer ids, no allOf + nullable (opsconsole.schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "opsconsole.schema.describe_errors",
    ],
    # Swagger UI and ReDoc served from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# One cache shared by every web process, so a host name's branding is the same
# whichever process answers: the database (table created by migration
# opsconsole 0004) unless REDIS_URL names a Redis. A key's request count (429)
# is in Redis or the database too (opsconsole/throttling.py), never in memory.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that hangs answers as one that is down, within seconds.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "opsconsole_cache",
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }

# How long /healthz goes on saying the database's disk is full after a request
# last failed for lack of space there (opsconsole/disk_full.py): noted in Redis
# when REDIS_URL is set (every web process sees it), else in the process.
OPSCONSOLE_DISK_FULL_SECONDS = float(os.environ.get("OPSCONSOLE_DISK_FULL_SECONDS", "60"))

# django-q2: on Redis when REDIS_URL is set (queue workers on many machines
# share it), else on the ORM broker (the database). retry must exceed timeout,
# or a slow task runs twice; catch_up off so a restarted cluster does not
# replay missed schedules.
Q_CLUSTER = {
    "name": "opsconsole",
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
if REDIS_URL:
    # django-q2's Redis connection settings, with a broker that keeps a taken
    # task until it is acknowledged and queues in the database while Redis is
    # down (opsconsole/broker.py).
    Q_CLUSTER["redis"] = REDIS_URL
    Q_CLUSTER["broker_class"] = "opsconsole.broker.ReliableRedis"
else:
    Q_CLUSTER["orm"] = "default"

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
    "filters": {"client_errors": {"()": "opsconsole.logging_filters.NoTracebackForClientErrors"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["client_errors"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
    # WeasyPrint warns about every SVG style property of a chart it reads natively.
    "loggers": {"weasyprint": {"level": "ERROR"}, "fontTools": {"level": "ERROR"}},
}

# Transport security (``manage.py check --deploy`` passes with DJANGO_DEBUG=0).
# The console runs behind a TLS-terminating proxy that sets X-Forwarded-Proto;
# OPSCONSOLE_INSECURE_HTTP=1 serves plain HTTP (scripts/demo, tests, local use):
# no HTTPS redirect, no HSTS, cookies sent without the Secure flag.
INSECURE_HTTP = env_bool("OPSCONSOLE_INSECURE_HTTP") or DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = not INSECURE_HTTP
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]  # probed over plain HTTP inside the network
SECURE_HSTS_SECONDS = 0 if INSECURE_HTTP else int(os.environ.get("OPSCONSOLE_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not INSECURE_HTTP
SECURE_HSTS_PRELOAD = not INSECURE_HTTP
SESSION_COOKIE_SECURE = not INSECURE_HTTP
CSRF_COOKIE_SECURE = not INSECURE_HTTP
SESSION_COOKIE_HTTPONLY = True
# A signed-in session lasts a working day (OPSCONSOLE_SESSION_HOURS, default 12).
SESSION_COOKIE_AGE = int(float(os.environ.get("OPSCONSOLE_SESSION_HOURS", "12")) * 3600)
X_FRAME_OPTIONS = "DENY"
