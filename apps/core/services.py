"""The shape every write takes: one transaction, the actor recorded in the audit trail."""
from __future__ import annotations

import functools

import pghistory
from django.db import transaction


def service(func):
    """Run a service function in one transaction, with its name and actor attached to every history row.

    pghistory's triggers copy this context onto each audit event, so an audit row written by a Celery task
    or an API-key call says who and what, exactly like one written from a web form.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        actor = kwargs.get("actor")
        with transaction.atomic(), pghistory.context(
            user=getattr(actor, "pk", None), service=f"{func.__module__}.{func.__name__}"
        ):
            return func(*args, **kwargs)

    return wrapper


# --- the working-day calendar (apps.core.workdays) ----------------------------------------------------------


def _require_admin(actor) -> None:
    from django.utils.translation import gettext as _

    from apps.core.errors import DomainError, ErrorCode

    if actor is None or not actor.is_authenticated or not actor.is_active or actor.kind != "admin":
        raise DomainError(code=ErrorCode.PERMISSION_DENIED,
                          message=_("Only administrators maintain the working-day calendar."), status=403)


def _override_date(value):
    import datetime as dt

    from django.utils.translation import gettext as _

    from apps.core.errors import DomainError, ErrorCode

    if not isinstance(value, dt.date) or isinstance(value, dt.datetime) or not 2000 <= value.year <= 2100:
        raise DomainError(code=ErrorCode.WORKDAY_OVERRIDE_INVALID,
                          message=_("Give a calendar date between the years 2000 and 2100."), field="date")
    return value


@service
def workday_override_set(*, actor, date, is_workday: bool, note: str = ""):
    """An admin records that `date` is (or is not) a working day; it wins over the chinesecalendar package."""
    from apps.core.models import WorkdayOverride
    from apps.core.validators import reject_markup

    _require_admin(actor)
    date = _override_date(date)
    note = reject_markup(note or "", field="note")[:200]
    override = WorkdayOverride.objects.select_for_update().filter(date=date).first()
    if override is None:
        override = WorkdayOverride(date=date, created_by=actor)
    override.is_workday, override.note, override.updated_by = bool(is_workday), note, actor
    override.save()
    return override


@service
def workday_override_delete(*, actor, date) -> bool:
    """Remove an admin's entry: the package (or Mon–Fri) decides that day again. False when there was none."""
    from apps.core.models import WorkdayOverride

    _require_admin(actor)
    deleted, _by_model = WorkdayOverride.objects.filter(date=_override_date(date)).delete()
    return bool(deleted)
