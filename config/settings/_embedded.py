"""Database and broker selection shared by the local and test settings (never production)."""
from config.embedded import embedded_broker_url, embedded_database_url
from config.settings.base import database_from_url, env


def database_settings() -> dict:
    url = env("DATABASE_URL") or embedded_database_url()
    return {"default": database_from_url(url)}


def broker_settings() -> tuple[str, dict]:
    url = env("CELERY_BROKER_URL")
    if url:
        from config.settings.base import CELERY_BROKER_TRANSPORT_OPTIONS

        return url, dict(CELERY_BROKER_TRANSPORT_OPTIONS)
    return embedded_broker_url()
