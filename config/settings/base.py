"""Settings shared by every environment. Everything secret or site-specific comes from the environment."""
from __future__ import annotations

import os
from pathlib import Path

from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_celery_results",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "rules.apps.AutodiscoverRulesConfig",
    "django_htmx",
    "apps.core",
    "apps.accounts",
    "apps.enterprises",
    "apps.batteries",
    "apps.scrapping",
    "apps.filings",
    "apps.deadlines",
    "apps.reconciliation",
    "apps.enforcement",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "apps.core.middleware.PortalLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "apps.accounts.middleware.AccountGateMiddleware",
    # axes must be last: it turns lockouts into its response
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "django.template.context_processors.i18n",
                "apps.core.context_processors.portal",
            ],
        },
    }
]

# --- database ---------------------------------------------------------------------------------------
# Set by the environment-specific modules (DATABASE_URL, or the embedded server outside production).
DATABASES: dict = {}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
CONN_MAX_AGE = int(env("DJANGO_CONN_MAX_AGE", "60"))


def database_from_url(url: str) -> dict:
    import dj_database_url

    config = dj_database_url.parse(url, conn_max_age=CONN_MAX_AGE, conn_health_checks=True)
    if not config["ENGINE"].endswith("postgresql"):
        raise RuntimeError("batterytrace runs on PostgreSQL only; DATABASE_URL must be postgres://…")
    config.setdefault("OPTIONS", {})
    config["ATOMIC_REQUESTS"] = False
    return config


# --- auth ---------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3  # also the lifetime of a staff invitation link

# django-axes: lock an account+address pair after repeated failures.
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(env("AXES_COOLOFF_HOURS", "0.5"))  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = env_bool("AXES_VERBOSE", False)

OTP_TOTP_ISSUER = "batterytrace"

# --- i18n -----------------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- static & media -------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", str(BASE_DIR / ".local" / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", str(BASE_DIR / ".local" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
BUSINESS_LICENCE_MAX_BYTES = int(env("BUSINESS_LICENCE_MAX_BYTES", str(10 * 1024 * 1024)))

# --- e-mail -----------------------------------------------------------------------------------------------
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "batterytrace <noreply@batterytrace.localhost>")
PORTAL_BASE_URL = env("PORTAL_BASE_URL", "http://127.0.0.1:8000")

# --- REST API -----------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.api.authentication.APIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.accounts.api.permissions.AccountInGoodStanding"],
    # JSON only: the browsable HTML renderer needs inline scripts the CSP forbids; /api/v1/docs/ is the human view.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", "60/minute"),
        "user": env("API_THROTTLE_USER", "1200/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "batterytrace API",
    "DESCRIPTION": (
        "动力电池溯源监管平台接口 / Power-battery traceability portal API. "
        "Authenticate enterprise systems with `Authorization: Api-Key <key>`. "
        "Errors are `{code, message, field}`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "EnterpriseStatusEnum": "apps.enterprises.models.Enterprise.Status",
        "LicenceStatusEnum": "apps.enterprises.models.RecyclerLicence.Status",
        "ChemistryEnum": "apps.core.choices.Chemistry",
        "BatteryStatusEnum": "apps.batteries.models.BatteryStatus",
        "VehicleStatusEnum": "apps.batteries.models.Vehicle.Status",
        "EventKindEnum": "apps.batteries.models.EventKind",
        "BulkImportKindEnum": "apps.batteries.models.BulkImport.Kind",
        "BulkImportStatusEnum": "apps.batteries.models.BulkImport.Status",
        "FilingKindEnum": "apps.filings.models.FilingKind",
        "DeadlineEventKindEnum": "apps.deadlines.api.views.KIND_CHOICES",
        "PeriodicReportKindEnum": "apps.deadlines.api.views.REPORT_KIND_CHOICES",
        "FilingStatusEnum": "apps.filings.models.FilingStatus",
        "IntakeStatusEnum": "apps.scrapping.models.IntakeStatus",
        "CheckOutcomeEnum": "apps.scrapping.models.CheckOutcome",
        "OwnerIdKindEnum": "apps.scrapping.models.OwnerIdKind",
        "IntakeDecisionEnum": "apps.scrapping.models.Decision",
        "IntakeBatteryResultEnum": "apps.scrapping.models.BatteryRole",
        "CertificateStatusEnum": "apps.scrapping.models.CertificateStatus",
        "CertificateChangeActionEnum": "apps.scrapping.models.CertificateChange.Action",
        "EnforcementKindEnum": "apps.enforcement.models.ActionKind",
        "EnforcementStatusEnum": "apps.enforcement.models.ActionStatus",
        "EnforcementOutcomeEnum": "apps.enforcement.models.Outcome",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
}

# --- Celery -----------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
# Redis: a message taken by a worker that dies unacknowledged comes back after visibility_timeout (seconds; Redis'
# default is an hour), found by a sweep every unacked_restore_interval × throttle seconds (kombu: 100 by default).
# Outbox deliveries run once however often they come (apps.core.outbox), so the timeout may be short (ADR 0018).
CELERY_BROKER_TRANSPORT_OPTIONS: dict = (
    {"visibility_timeout": int(env("CELERY_VISIBILITY_TIMEOUT")),
     "unacked_restore_interval": max(1, int(env("CELERY_VISIBILITY_TIMEOUT")) // 5), "unacked_restore_throttle": 1}
    if env("CELERY_VISIBILITY_TIMEOUT") else {})
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE: dict = {
    "purge-idempotency-records": {"task": "apps.core.tasks.purge_idempotency_records", "schedule": 60 * 60},
    # Follow-up jobs the broker did not take at commit time (apps.core.outbox).
    "outbox-relay": {"task": "apps.core.tasks.outbox_relay", "schedule": 60},
    # Recompute every ledger chain at night; a break is logged as an error (and returned as a count).
    "ledger-verify-nightly": {"task": "apps.batteries.tasks.ledger_verify_all", "schedule": crontab(hour=2, minute=30)},
    # Handover deadlines counted over a year the calendar did not know yet are recounted once admins enter it.
    "scrapping-provisional-deadlines": {"task": "apps.scrapping.tasks.provisional_deadlines_recount",
                                        "schedule": crontab(hour=3, minute=10)},
    # Every check for every enterprise, after the ledger verification (apps.reconciliation).
    "reconciliation-nightly": {"task": "apps.reconciliation.tasks.reconciliation_run_all",
                               "schedule": crontab(hour=3, minute=40)},
    # The dashboards' aggregates (ADR 0012): hourly, besides the refresh queued after each full reconciliation run.
    "dashboard-aggregates-hourly": {"task": "apps.reconciliation.tasks.dashboard_aggregates_refresh",
                                    "schedule": crontab(minute=20)},
    # Monthly-report reminders (apps.deadlines): before the due date and on the day it becomes overdue.
    "deadline-reminders-daily": {"task": "apps.deadlines.tasks.deadline_reminders_send",
                                 "schedule": crontab(hour=8, minute=30)},
}

# --- Content security policy (django-csp 4) --------------------------------------------------------------------
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8

# --- domain settings
# VIN check digit (position 9): strict by default; some imported vehicles do not use it.
VIN_STRICT_CHECK_DIGIT = env_bool("VIN_STRICT_CHECK_DIGIT", True)
# GB/T 34014 production-date tables (years/months/days → value); None uses apps.batteries.codes defaults.
BATTERY_CODE_DATE_TABLES = None
# Fields of use banned for products made from waste batteries, besides electric bicycles (DOMAIN.md rule 2).
BANNED_FIELDS_OF_USE: list[str] = env_list("BANNED_FIELDS_OF_USE")
BULK_IMPORT_MAX_BYTES = int(env("BULK_IMPORT_MAX_BYTES", str(512 * 1024 * 1024)))
# Scrapping (apps.scrapping): working days after the certificate for handing the batteries to a licensed recycler
# (DOMAIN.md rule 5: 15 in the 2018 Provisions; the 2026 value is unverified) — only a fallback: the admin-edited
# deadline table's dismantler_certificate row decides (apps.scrapping.selectors.handover_working_days) — and the
# intake photo size limit.
SCRAPPING_HANDOVER_WORKING_DAYS = int(env("SCRAPPING_HANDOVER_WORKING_DAYS", "15"))
SCRAPPING_PHOTO_MAX_BYTES = int(env("SCRAPPING_PHOTO_MAX_BYTES", str(5 * 1024 * 1024)))
# Filings (apps.filings): the monthly pack-count report is due on this day of the following month.
FILINGS_MONTHLY_REPORT_DUE_DAY = int(env("FILINGS_MONTHLY_REPORT_DUE_DAY", "10"))
FILINGS_ATTACHMENT_MAX_BYTES = int(env("FILINGS_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
# A monthly-report file (CSV or XLSX, one row per month) is small; larger uploads are refused.
FILINGS_REPORT_FILE_MAX_BYTES = int(env("FILINGS_REPORT_FILE_MAX_BYTES", str(2 * 1024 * 1024)))
# Reporting deadlines (apps.deadlines), in working days: the defaults a data migration seeds (DOMAIN.md rule 5,
# 2018 Provisions; the 2026 values are unverified). Admins change them on the deadlines page afterwards.
REPORTING_DEADLINE_DEFAULTS = {
    "vehicle_installation": 15, "repair_replacement": 30, "collection_store": 30, "dismantler_certificate": 15,
    "dismantler_handover": 15, "recycler_intake": 30, "recycler_disposal": 30,
}
# A monthly report's reminder goes out this many working days before its due date (and again once it is overdue).
FILINGS_REMINDER_WORKING_DAYS = int(env("FILINGS_REMINDER_WORKING_DAYS", "3"))
# The reviewer queue ranks an enterprise a repeat offender from this many filings returned or rejected in 12 months.
FILINGS_REPEAT_OFFENDER_THRESHOLD = int(env("FILINGS_REPEAT_OFFENDER_THRESHOLD", "2"))
# A discrepancy counts towards "repeat offender" once it has stayed open this long (or when escalated): a fresh one
# is often raised by the very filing under review and says nothing about the enterprise's past.
FILINGS_REPEAT_OFFENDER_DISCREPANCY_DAYS = int(env("FILINGS_REPEAT_OFFENDER_DISCREPANCY_DAYS", "30"))
# Reconciliation (apps.reconciliation): a battery in transit longer than this many working days is flagged
# (handover_not_received); a waste or removed battery with no event for this many days has gone dark; a discrepancy
# keeps at most this many battery codes (and the full count).
RECONCILIATION_HANDOVER_WORKING_DAYS = int(env("RECONCILIATION_HANDOVER_WORKING_DAYS", "5"))
RECONCILIATION_GONE_DARK_DAYS = int(env("RECONCILIATION_GONE_DARK_DAYS", "90"))
RECONCILIATION_CODES_CAP = int(env("RECONCILIATION_CODES_CAP", "100"))
# Working days a refused battery may stay without the sender's next step, and a blocked scrapping intake (battery
# missing) without an explanation filed, before reconciliation flags them.
RECONCILIATION_REFUSAL_WORKING_DAYS = int(env("RECONCILIATION_REFUSAL_WORKING_DAYS", "5"))
RECONCILIATION_BLOCKED_INTAKE_WORKING_DAYS = int(env("RECONCILIATION_BLOCKED_INTAKE_WORKING_DAYS", "10"))
# The weight (kg) assumed for a battery registered without one, by product type (pack, module, cell), in the
# capacity and mass-balance checks: a typical passenger-car pack, module and prismatic cell (ADR 0011).
RECONCILIATION_DEFAULT_WEIGHT_KG = {"P": 400, "M": 30, "C": 3}
# Enterprises per task when the nightly run is split across workers (apps.reconciliation.tasks).
RECONCILIATION_BATCH_SIZE = int(env("RECONCILIATION_BATCH_SIZE", "200"))
# ---  -----------------------------------------------------------------------------------------------
# Personal data keyed hashes (owner IDs at scrapping) use their own key, never SECRET_KEY.
PII_HASH_KEY = env("PII_HASH_KEY")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"pgserver": {"level": "WARNING"}},
}
