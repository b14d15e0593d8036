"""The reconciliation run: every check, under a PostgreSQL advisory lock, upserting what it finds (ADR 0011)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from apps.core.services import service
from apps.reconciliation.checks import CHECKS, check_parameters
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
  AND (%(enterprise)s::bigint IS NULL OR enterprise_id = %(enterprise)s)
"""


@dataclass
class RunResult:
    run: ReconciliationRun
    counts: dict[str, int] = field(default_factory=dict)
    closed: int = 0

    @property
    def skipped(self) -> bool:
        return self.run.status == ReconciliationRun.Status.SKIPPED


def _try_lock(cursor, enterprise_id: int | None) -> bool:
    """Transaction-level advisory locks: released at commit or rollback, never left behind by a dead worker."""
    if enterprise_id is None:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, 0)", [LOCK_NAMESPACE])
        return cursor.fetchone()[0]
    cursor.execute("SELECT pg_try_advisory_xact_lock_shared(%s, 0) AND pg_try_advisory_xact_lock(%s, %s)",
                   [LOCK_NAMESPACE, LOCK_NAMESPACE, enterprise_id])
    return cursor.fetchone()[0]


@service
def reconciliation_run(*, actor=None, enterprise=None, dry_run: bool = False) -> RunResult:
    """Run every check for all enterprises (or one), in one transaction.

    A real run upserts each discrepancy on its key (a re-run updates found/expected/last seen, never duplicates)
    and resolves the open or explained discrepancies of its scope that no longer hold. A dry run computes and
    counts, and writes no discrepancy. Either way the run is recorded. When another run holds the lock for the same
    scope, this one returns at once, recorded as skipped.
    """
    enterprise_id = getattr(enterprise, "pk", enterprise)
    now = timezone.now()
    run = ReconciliationRun(started_at=now, dry_run=dry_run, enterprise_id=enterprise_id)
    with connection.cursor() as cursor:
        if not _try_lock(cursor, enterprise_id):
            run.status, run.finished_at = ReconciliationRun.Status.SKIPPED, timezone.now()
            run.save()
            logger.info("reconciliation run skipped: another run holds the lock (enterprise %s)", enterprise_id)
            return RunResult(run)
        params = {**check_parameters(enterprise_id=enterprise_id, now=now), "now": now}
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
            cursor.execute(CLOSE, {"now": now, "enterprise": enterprise_id,
                                   "closable": [str(s) for s in CLOSABLE_STATUSES],
                                   "kinds": [str(c.kind) for c in CHECKS]})
            closed = cursor.rowcount
    run.counts, run.closed = counts, closed
    run.status, run.finished_at = ReconciliationRun.Status.SUCCEEDED, timezone.now()
    run.save()
    return RunResult(run, counts, closed)


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
    """The reviewer accepted the explanation: an open or explained discrepancy is resolved (closed now). An
    escalated one stays with its enforcement action; a resolved one is left as it is."""
    from apps.reconciliation.models import CLOSABLE_STATUSES, DiscrepancyStatus

    discrepancy = _discrepancy_locked(discrepancy_id)
    if discrepancy.status in CLOSABLE_STATUSES:
        discrepancy.status, discrepancy.closed_at = DiscrepancyStatus.RESOLVED, timezone.now()
        discrepancy.save(update_fields=["status", "closed_at"])
    return discrepancy


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
    (discrepancy_resolve is the explanation workflow's: approving an explanation resolves.)"""
    from django.utils.translation import gettext_lazy as _

    from apps.core.errors import DomainError, ErrorCode
    from apps.core.validators import reject_markup

    comment = reject_markup((comment or "").strip(), field="comment")[:4000]
    discrepancy, new_status, record = _discrepancy_decide(actor=actor, discrepancy_id=discrepancy_id,
                                                          decision="resolve", comment=comment)
    if not comment:
        raise DomainError(code=ErrorCode.COMMENT_REQUIRED, field="comment",
                          message=_("Say why the discrepancy is resolved."))
    discrepancy.status, discrepancy.closed_at = new_status, timezone.now()
    discrepancy.save(update_fields=["status", "closed_at"])
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
