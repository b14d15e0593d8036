"""pytest: always PostgreSQL (DATABASE_URL, else the embedded server); Celery eager in unit tests."""
from pathlib import Path

from config.settings._embedded import broker_settings, database_settings
from config.settings.base import *  # noqa: F401,F403
from config.settings.base import env

DEBUG = False
SECRET_KEY = "test-only-not-secret"
PII_HASH_KEY = "test-only-pii-key"
DATABASES = database_settings()
DATABASES["default"]["CONN_MAX_AGE"] = 0
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = broker_settings()
# Unit tests run tasks inline; tests marked `worker` start a real worker against the broker instead.
CELERY_TASK_EAGER_PROPAGATES = True
# The worker test runs a real worker process with a file-based backend it can read back.
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(BASE_DIR / ".local" / "test-mail"))  # noqa: F405
CELERY_TASK_ALWAYS_EAGER = env("CELERY_TASK_ALWAYS_EAGER", "1") == "1"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# DJANGO_MEDIA_ROOT: a real worker process (browser journeys) reads the uploads the live server stored.
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", str(BASE_DIR / ".local" / "test-media")))  # noqa: F405
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "10000/minute", "user": "10000/minute"}}  # noqa: F405
AXES_FAILURE_LIMIT = 5
AXES_VERBOSE = False
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
