"""The reconciliation run: every check, under a PostgreSQL advisory lock, upserting what it finds (ADR 0011)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from apps.core.services import service
from apps.reconciliation.checks import CHECKS, check_parameters, prepare_shared_tables
from apps.reconciliation.models import CLOSABLE_STATUSES, ReconciliationRun

logger = logging.getLogger(__name__)

# Advisory lock keys: (namespace, scope). A full run holds (NAMESPACE, 0) exclusively; a run for one enterprise
# holds (NAMESPACE, 0) shared and (NAMESPACE, enterprise id) exclusively. So runs for different enterprises may go
# side by side (on several workers), and nothing runs beside a full run or beside a run for the same enterprise.
LOCK_NAMESPACE = 0x5EC0  # "reconciliation"; any constant no other advisory lock in the project uses

UPSERT = """
INSERT INTO reconciliation_discrepancy
    (enterprise_id, period, kind, figure, subject, expected, found, severity, codes, code_count,
     status, first_seen, last_seen, closed_at)
SELECT found_rows.enterprise_id, found_rows.period, %(kind)s, found_rows.figure, found_rows.subject,
       found_rows.expected, found_rows.found, found_rows.severity, found_rows.codes, found_rows.code_count,
       'open', %(now)s, %(now)s, NULL
FROM ({check}) AS found_rows
ON CONFLICT (enterprise_id, period, kind, figure, subject) DO UPDATE SET
    expected = EXCLUDED.expected, found = EXCLUDED.found, severity = EXCLUDED.severity, codes = EXCLUDED.codes,
    code_count = EXCLUDED.code_count, last_seen = EXCLUDED.last_seen,
    -- a resolved discrepancy that holds again is reopened; explained and escalated ones keep their status, and
    -- so does one resolved by an accepted explanation while its figures are the ones that were explained
    status = CASE WHEN reconciliation_discrepancy.status = 'resolved' AND NOT ({explained}) THEN 'open'
                  ELSE reconciliation_discrepancy.status END,
    closed_at = CASE WHEN reconciliation_discrepancy.status = 'resolved' AND NOT ({explained}) THEN NULL
                     ELSE reconciliation_discrepancy.closed_at END
"""

# A resolved discrepancy whose explanation a reviewer approved, found again with the same figures.
EXPLANATION_ACCEPTED = (
    "EXISTS (SELECT 1 FROM filings_explanation x JOIN filings_filing f ON f.id = x.filing_id"
    " WHERE x.discrepancy_id = reconciliation_discrepancy.id AND f.status = 'approved')"
    " AND reconciliation_discrepancy.expected = EXCLUDED.expected"
    " AND reconciliation_discrepancy.found = EXCLUDED.found")

CLOSE = """
UPDATE reconciliation_discrepancy SET status = 'resolved', closed_at = %(now)s
WHERE status = ANY(%(closable)s) AND last_seen < %(now)s AND kind = ANY(%(kinds)s)
  AND (%(enterprises)s::bigint[] IS NULL OR enterprise_id = ANY(%(enterprises)s::bigint[]))
"""

# For the run's transaction only (set_config(…, true) = SET LOCAL). No JIT: the checks' cost estimates (hashed
# subplans, per-report subqueries) pass jit_above_cost and PostgreSQL spent 0.5–0.9 s compiling each of several
# statements that run in a second or two (tests/bench/bench_reconciliation_national.py). More memory for hashes:
# the anti-joins over the ledger's receipts and handovers (10⁶ rows each nationally) then stay in one batch
# instead of 32 spilled to disk.
RUN_SETTINGS = "SELECT set_config('jit', 'off', true), set_config('work_mem', '128MB', true)"


@dataclass
class RunResult:
    run: ReconciliationRun
    counts: dict[str, int] = field(default_factory=dict)
    closed: int = 0

    @property
    def skipped(self) -> bool:
        return self.run.status == ReconciliationRun.Status.SKIPPED


def _try_lock(cursor, enterprise_ids: list[int] | None) -> bool:
    """Transaction-level advisory locks: released at commit or rollback, never left behind by a dead worker. A run
    for some enterprises (one, or a batch of a split run) holds (NAMESPACE, 0) shared and each of theirs
    exclusively; try-locks never wait, so two batches can never deadlock."""
    if enterprise_ids is None:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, 0)", [LOCK_NAMESPACE])
        return cursor.fetchone()[0]
    cursor.execute("SELECT pg_try_advisory_xact_lock_shared(%s, 0)", [LOCK_NAMESPACE])
    if not cursor.fetchone()[0]:
        return False
    cursor.execute("SELECT coalesce(bool_and(pg_try_advisory_xact_lock(%s, id::int)), true)"
                   " FROM (SELECT unnest(%s::bigint[]) AS id ORDER BY 1) AS batch", [LOCK_NAMESPACE, enterprise_ids])
    return cursor.fetchone()[0]


@service
def reconciliation_run(*, actor=None, enterprise=None, enterprises=None, dry_run: bool = False,
                       parent: int | None = None) -> RunResult:
    """Run every check for all enterprises, one (`enterprise`) or a batch (`enterprises`: ids), in one transaction.

    A real run upserts each discrepancy on its key (a re-run updates found/expected/last seen, never duplicates)
    and resolves the open or explained discrepancies of its scope that no longer hold. A dry run computes and
    counts, and writes no discrepancy. Either way the run is recorded. When another run holds the lock for the same
    scope, this one returns at once, recorded as skipped. A batch of a split run names its `parent` run, which the
    last batch to finish completes (reconciliation_run_split).
    """
    enterprise_id = getattr(enterprise, "pk", enterprise)
    if enterprise_id is not None:
        enterprise_ids = [enterprise_id]
    else:
        enterprise_ids = sorted({int(pk) for pk in enterprises}) if enterprises is not None else None
    now = timezone.now()
    run = ReconciliationRun(started_at=now, dry_run=dry_run, enterprise_id=enterprise_id, parent_id=parent,
                            batch=enterprise_ids if enterprises is not None else [])
    with connection.cursor() as cursor:
        if not _try_lock(cursor, enterprise_ids):
            run.status, run.finished_at = ReconciliationRun.Status.SKIPPED, timezone.now()
            run.save()
            logger.info("reconciliation run skipped: another run holds the lock (enterprises %s)", enterprise_ids)
            if parent is not None:
                _batch_finished(parent)
            return RunResult(run)
        cursor.execute(RUN_SETTINGS)
        params = {**check_parameters(enterprise_ids=enterprise_ids, now=now), "now": now}
        prepare_shared_tables(cursor, params)
        counts: dict[str, int] = {}
        for check in CHECKS:
            if dry_run:
                cursor.execute(f"SELECT count(*) FROM ({check.sql}) AS found_rows", params)
                counts[str(check.kind)] = cursor.fetchone()[0]
            else:
                cursor.execute(UPSERT.format(check=check.sql, explained=EXPLANATION_ACCEPTED),
                               {**params, "kind": str(check.kind)})
                counts[str(check.kind)] = cursor.rowcount
        closed = 0
        if not dry_run:
            cursor.execute(CLOSE, {"now": now, "enterprises": enterprise_ids,
                                   "closable": [str(s) for s in CLOSABLE_STATUSES],
                                   "kinds": [str(c.kind) for c in CHECKS]})
            closed = cursor.rowcount
    run.counts, run.closed = counts, closed
    run.status, run.finished_at = ReconciliationRun.Status.SUCCEEDED, timezone.now()
    run.save()
    if parent is not None:
        _batch_finished(parent)
    return RunResult(run, counts, closed)


# --- the split run: one parent, one child per batch of enterprises, on as many workers as there are -------------


def _batch_finished(parent_id: int) -> ReconciliationRun:
    """In the batch's transaction: lock the parent, add up its finished batches; the last one finishes it
    (succeeded, or partial when a batch was skipped). Batches finishing together queue on the parent's row lock,
    and each sees the others' committed rows (READ COMMITTED), so exactly one of them finishes the parent."""
    parent = ReconciliationRun.objects.select_for_update().get(pk=parent_id)
    children = list(ReconciliationRun.objects.filter(parent_id=parent_id).values("status", "counts", "closed"))
    totals: dict[str, int] = {}
    for child in children:
        for kind, n in child["counts"].items():
            totals[kind] = totals.get(kind, 0) + n
    parent.counts, parent.closed = totals, sum(c["closed"] for c in children)
    if len(children) >= parent.children_total and parent.finished_at is None:
        skipped = any(c["status"] == ReconciliationRun.Status.SKIPPED for c in children)
        parent.status = ReconciliationRun.Status.PARTIAL if skipped else ReconciliationRun.Status.SUCCEEDED
        parent.finished_at = timezone.now()
    parent.save(update_fields=["counts", "closed", "status", "finished_at"])
    return parent


def enterprise_batches(batch_size: int) -> list[list[int]]:
    """Every enterprise's id, in batches of `batch_size` (consecutive ids: a batch's checks then read neighbouring
    rows of the per-enterprise indexes)."""
    from apps.enterprises.models import Enterprise

    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    return [ids[i:i + batch_size] for i in range(0, len(ids), batch_size)]


@service
def reconciliation_run_split(*, actor=None, dry_run: bool = False, batch_size: int | None = None,
                             queue: str | None = None) -> ReconciliationRun:
    """The nightly run, split across workers: records a parent run and, once committed, queues one task per batch
    of enterprises (reconciliation_run with `enterprises` and `parent`), each under its own advisory locks. The
    discrepancies are the same as one full run's (each check scopes by the discrepancy's enterprise). While a full
    run holds the lock, the parent is recorded as skipped and nothing is queued. The batches go to `queue` (the
    queue the nightly task came from, so that the workers serving it serve its batches too), else the default one."""
    from django.conf import settings
    from django.db import transaction

    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock_shared(%s, 0)", [LOCK_NAMESPACE])
        free = cursor.fetchone()[0]
    if not free:
        return ReconciliationRun.objects.create(started_at=now, finished_at=timezone.now(), dry_run=dry_run,
                                                status=ReconciliationRun.Status.SKIPPED)
    batches = enterprise_batches(batch_size or settings.RECONCILIATION_BATCH_SIZE)
    parent = ReconciliationRun.objects.create(started_at=now, dry_run=dry_run, children_total=len(batches))
    if not batches:
        parent.status, parent.finished_at = ReconciliationRun.Status.SUCCEEDED, timezone.now()
        parent.save(update_fields=["status", "finished_at"])
        return parent

    def dispatch():
        from celery import group

        from apps.reconciliation.tasks import reconciliation_run_batch

        group(reconciliation_run_batch.s(parent.pk, batch, dry_run) for batch in batches).apply_async(
            **({"queue": queue} if queue else {}))

    transaction.on_commit(dispatch)
    return parent



# --- the dashboards' aggregates (ADR 0013) ---------------------------------------------------------------------

AGGREGATE_VIEWS = ("reconciliation_flow_month", "reconciliation_received_weight_month", "reconciliation_status_count")
AGGREGATES_LOCK = (LOCK_NAMESPACE, -1)  # one refresh at a time; never a scope a reconciliation run uses


@service
def dashboard_aggregates_refresh(*, actor=None, concurrently: bool = True):
    """Recompute the dashboards' materialized views, set-based. CONCURRENTLY keeps them readable meanwhile (the
    dashboards never wait); a refresh already in progress makes this one a no-op (returns None)."""
    from apps.reconciliation.stats import AggregateRefresh

    started = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", AGGREGATES_LOCK)
        if not cursor.fetchone()[0]:
            logger.info("dashboard aggregates: a refresh is already running; skipped")
            return None
        for view in AGGREGATE_VIEWS:
            cursor.execute(f"REFRESH MATERIALIZED VIEW {'CONCURRENTLY ' if concurrently else ''}{view}")
    refresh = AggregateRefresh.objects.create(started_at=started, finished_at=timezone.now())
    AggregateRefresh.objects.filter(finished_at__lt=refresh.finished_at - timezone.timedelta(days=30)).delete()
    return refresh


# --- the discrepancy workflow: open → explained (an explanation filed) → resolved, or back to open --------------
# Called by the explanation filing's services (apps.filings.explanation_services) in their transaction, so the
# filing's transition row is the audit of each change. A run (above) leaves an explained discrepancy explained
# while it still holds, and closes it when it no longer does.


def _discrepancy_locked(discrepancy_id: int):
    from apps.reconciliation.models import Discrepancy

    return Discrepancy.objects.select_for_update().get(pk=discrepancy_id)


@service
def discrepancy_explain(*, actor, discrepancy_id: int):
    """An explanation was submitted: an open discrepancy becomes explained (already explained: unchanged)."""
    from apps.reconciliation.models import DiscrepancyStatus

    discrepancy = _discrepancy_locked(discrepancy_id)
    if discrepancy.status == DiscrepancyStatus.OPEN:
        discrepancy.status = DiscrepancyStatus.EXPLAINED
        discrepancy.save(update_fields=["status"])
    return discrepancy


@service
def discrepancy_resolve(*, actor, discrepancy_id: int):
    """The reviewer accepted the explanation: an open or explained discrepancy is resolved (closed now), by the
    same rule as a reviewer's own resolution (discrepancy_review_resolve). An escalated one stays with its
    enforcement action; a resolved one is left as it is."""
    from apps.enforcement import rules as enforcement_rules

    discrepancy = _discrepancy_locked(discrepancy_id)
    new_status = enforcement_rules.discrepancy_next_status(discrepancy.status, "resolve")
    if new_status is not None:
        _discrepancy_close(discrepancy, new_status)
    return discrepancy


def _discrepancy_close(discrepancy, new_status: str) -> None:
    """The one write of a resolution, whoever resolves (an accepted explanation or a reviewer's decision)."""
    discrepancy.status, discrepancy.closed_at = new_status, timezone.now()
    discrepancy.save(update_fields=["status", "closed_at"])


@service
def discrepancy_reopen(*, actor, discrepancy_id: int):
    """The reviewer rejected the explanation: an explained discrepancy is open again (one a run resolved in the
    meantime, or that was escalated, keeps its status)."""
    from apps.reconciliation.models import DiscrepancyStatus

    discrepancy = _discrepancy_locked(discrepancy_id)
    if discrepancy.status == DiscrepancyStatus.EXPLAINED:
        discrepancy.status = DiscrepancyStatus.OPEN
        discrepancy.save(update_fields=["status"])
    return discrepancy


# --- the reviewer's decisions on a discrepancy: resolve (with a comment) or escalate to an enforcement action ----
# Each is recorded as an apps.enforcement DiscrepancyDecision (who, when, from, to, why) in the same transaction.


def _discrepancy_decide(*, actor, discrepancy_id, decision: str, comment: str):
    from django.utils.translation import gettext_lazy as _

    from apps.core.errors import DomainError, ErrorCode, NotFound
    from apps.enforcement import rules as enforcement_rules
    from apps.enforcement.models import DiscrepancyDecision
    from apps.reconciliation.models import Discrepancy

    if actor is None or not actor.is_authenticated or not actor.is_active or actor.kind not in ("reviewer", "admin"):
        raise DomainError(code=ErrorCode.PERMISSION_DENIED, status=403,
                          message=_("Only reviewers resolve or escalate a discrepancy."))
    try:
        discrepancy = Discrepancy.objects.visible_to(actor).select_for_update(of=("self",)).get(pk=discrepancy_id)
    except (Discrepancy.DoesNotExist, ValueError, TypeError):
        raise NotFound()
    new_status = enforcement_rules.discrepancy_next_status(discrepancy.status, decision)
    if new_status is None:
        raise DomainError(code=ErrorCode.DISCREPANCY_TRANSITION_NOT_ALLOWED, status=409,
                          message=_("This discrepancy is “%(status)s”: only an open or explained discrepancy is "
                                    "resolved or escalated.") % {"status": discrepancy.get_status_display()})
    record = DiscrepancyDecision(discrepancy=discrepancy, decision=decision, from_status=discrepancy.status,
                                 to_status=new_status, actor=actor, comment=comment)
    return discrepancy, new_status, record


@service
def discrepancy_review_resolve(*, actor, discrepancy_id, comment: str):
    """A reviewer closes an open or explained discrepancy as resolved, saying why (the comment is required).
    (discrepancy_resolve above is the explanation workflow's: approving an explanation resolves.)"""
    from django.utils.translation import gettext_lazy as _

    from apps.core.errors import DomainError, ErrorCode
    from apps.core.validators import reject_markup

    comment = reject_markup((comment or "").strip(), field="comment")[:4000]
    discrepancy, new_status, record = _discrepancy_decide(actor=actor, discrepancy_id=discrepancy_id,
                                                          decision="resolve", comment=comment)
    if not comment:
        raise DomainError(code=ErrorCode.COMMENT_REQUIRED, field="comment",
                          message=_("Say why the discrepancy is resolved."))
    _discrepancy_close(discrepancy, new_status)
    record.save()
    return discrepancy


@service
def discrepancy_escalate(*, actor, discrepancy_id, comment: str = "", kind: str = "order_to_correct"):
    """A reviewer escalates an open or explained discrepancy: a draft enforcement action against its enterprise,
    with the discrepancy as evidence, for the reviewer to complete and submit for a second approval. Returns the
    action."""
    from apps.core.validators import reject_markup
    from apps.enforcement.services import draft_from_discrepancy

    comment = reject_markup((comment or "").strip(), field="comment")[:4000]
    discrepancy, new_status, record = _discrepancy_decide(actor=actor, discrepancy_id=discrepancy_id,
                                                          decision="escalate", comment=comment)
    action = draft_from_discrepancy(actor=actor, discrepancy=discrepancy, kind=kind, comment=comment)
    discrepancy.status = new_status
    discrepancy.save(update_fields=["status"])
    record.action = action
    record.save()
    return action
