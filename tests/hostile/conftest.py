"""Fixtures for the hostile-input corpus: the battery personas, and a snapshot of every table's row count so that
each case can assert that a refused input changed nothing."""
from __future__ import annotations

import pytest
from django.apps import apps as django_apps
from django.db import connection

from tests.batteries.conftest import (  # noqa: F401 - personas shared with the battery tests
    carmaker, collector, dismantler, maker, maker_co, recycler, rival_maker,
)

# Tables a refused request may legitimately touch: sessions (sign-in), axes, idempotency answers, task results.
IGNORED_PREFIXES = ("django_session", "axes_", "core_idempotency", "django_celery")


def _tables() -> list[str]:
    names = []
    for model in django_apps.get_models(include_auto_created=True):
        table = model._meta.db_table
        if model._meta.managed and not model._meta.proxy and not table.startswith(IGNORED_PREFIXES):
            names.append(table)
    return sorted(set(names))


def row_counts() -> dict[str, int]:
    """Every project table's row count, in one statement."""
    tables = _tables()
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(f"SELECT '{t}', count(*) FROM \"{t}\"" for t in tables))
        return dict(cursor.fetchall())


class Unchanged:
    """`with unchanged():` fails if any table's row count differs afterwards (bar the `allow`ed tables: the
    record of a refused upload, say)."""

    def __init__(self, allow: tuple[str, ...] = ()):
        self.allow = allow

    def __enter__(self):
        self.before = row_counts()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            after = row_counts()
            changed = {t: (self.before[t], after.get(t)) for t in self.before
                       if self.before[t] != after.get(t) and t not in self.allow}
            assert not changed, f"a refused input changed the database: {changed}"
        return False


@pytest.fixture
def unchanged():
    return Unchanged
