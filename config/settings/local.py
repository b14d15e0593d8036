"""Developer laptop and the `scripts/run` demo: embedded PostgreSQL and filesystem broker by default."""
from config.settings._embedded import broker_settings, database_settings
from config.settings.base import *  # noqa: F401,F403
from config.settings.base import env

DEBUG = True
SECRET_KEY = env("DJANGO_SECRET_KEY", "local-development-only-not-secret")
PII_HASH_KEY = env("PII_HASH_KEY", "local-development-pii-key")
DATABASES = database_settings()
CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = broker_settings()
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
