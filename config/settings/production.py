"""Production: everything from the environment; refuses to start without the secrets it needs."""
from config.settings.base import *  # noqa: F401,F403
from config.settings.base import database_from_url, env, env_bool


def _required(name: str) -> str:
    value = env(name)
    if not value:
        raise RuntimeError(f"{name} must be set in production")
    return value


DEBUG = False
SECRET_KEY = _required("DJANGO_SECRET_KEY")
PII_HASH_KEY = _required("PII_HASH_KEY")
DATABASES = {"default": database_from_url(_required("DATABASE_URL"))}
CELERY_BROKER_URL = _required("CELERY_BROKER_URL")

SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(env("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
