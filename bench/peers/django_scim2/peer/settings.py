"""Settings of the django-scim2 peer: SQLite, the stock adapters, and one bearer-token check.

Environment: SCIM_TOKEN (required: the bearer token clients send), PEER_NETLOC (host:port put into
meta.location, default 127.0.0.1:8000), PEER_DB (SQLite file, default peer.db beside manage.py).
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "peer-bench-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django_scim",
    "peer",
]
MIDDLEWARE = []  # django-scim2 wraps its own views in AUTH_CHECK_MIDDLEWARE
ROOT_URLCONF = "peer.urls"
USE_TZ = True
TIME_ZONE = "UTC"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("PEER_DB", str(BASE_DIR / "peer.db")),
        # The harness sends requests side by side and runserver answers each in its own thread: with the
        # defaults (5 s, deferred transactions) SQLite answers "database is locked", which django-scim2 turns
        # into a 500 that a retry of the same request does not get. Writers take the lock when their
        # transaction begins and wait for it, so what is judged is django-scim2, not SQLite's locking.
        "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# The stock adapters need the SCIM mixin fields on the user and group models.
AUTH_USER_MODEL = "peer.User"

SCIM_SERVICE_PROVIDER = {
    "SCHEME": "http",
    "NETLOC": os.environ.get("PEER_NETLOC", "127.0.0.1:8000"),
    "GROUP_MODEL": "peer.models.Group",
    "AUTH_CHECK_MIDDLEWARE": "peer.auth.BearerTokenAuthCheck",
    "WWW_AUTHENTICATE_HEADER": 'Bearer realm="django-scim2"',
    "AUTHENTICATION_SCHEMES": [
        {
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a static bearer token",
        }
    ],
}

LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_scim": {"handlers": ["console"], "level": "WARNING"}},
}
