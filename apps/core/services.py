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
