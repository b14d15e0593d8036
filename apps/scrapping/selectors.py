"""Reads for the scrapping pages and API. Each starts from the actor's visible set (querysets.visible_to): another
dismantler's intake or certificate looks exactly like one that does not exist."""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.batteries.ledger import event_list
from apps.batteries.models import Battery
from apps.core.errors import NotFound
from apps.core.workdays import WorkdayCalendar, working_days_between
from apps.scrapping import rules
from apps.scrapping.models import IntakeBattery, IntakeFile, IntakeStatus, ScrappingCertificate, ScrappingIntake
from apps.scrapping.verification import certificate_id_from_token

INTAKE_RELATED = ("dismantler", "decided_by")
# The duty of the admin-edited deadline table (apps.deadlines, ADR 0019) whose working days set the handover deadline:
# DOMAIN.md rule 5, "dismantler 15 after issuing the scrapping certificate".
HANDOVER_DUTY = "dismantler_certificate"


def handover_working_days() -> int:
    """The working days a certificate issued now gives the dismantler to hand its batteries on: the dismantler duty's
    row of the deadline table that admins edit, or settings.SCRAPPING_HANDOVER_WORKING_DAYS if that row is missing."""
    from apps.deadlines.models import ReportingDeadline

    days = ReportingDeadline.objects.filter(duty=HANDOVER_DUTY).values_list("working_days", flat=True).first()
    return days if days is not None else settings.SCRAPPING_HANDOVER_WORKING_DAYS


def certificate_handover_days(certificate) -> int:
    """The working days a certificate's deadline was computed with (older rows without them: the current value)."""
    return certificate.handover_working_days or handover_working_days()
CERTIFICATE_RELATED = ("dismantler", "intake", "replaces", "voided_by")


def _search(qs, q: str | None, *fields: str):
    q = (q or "").strip()
    if not q:
        return qs
    upper = q.upper()
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__startswith": upper}) if field == "vin" else Q(**{f"{field}__icontains": q})
    return qs.filter(condition)


def intake_list(*, actor, q: str | None = None, status: str | None = None, outcome: str | None = None,
                province: str | None = None, dismantler=None, leads_only: bool = False) -> QuerySet:
    """Newest first. `q`: the start of a VIN, or part of a plate number; reviewers filter by the dismantler's
    province and by dismantler."""
    qs = ScrappingIntake.objects.visible_to(actor).select_related(*INTAKE_RELATED)
    qs = _search(qs, q, "vin", "plate_number")
    if leads_only:
        qs = qs.leads()
    if status:
        qs = qs.filter(status=status)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if province:
        qs = qs.filter(dismantler__province=province)
    if dismantler is not None:
        qs = qs.filter(dismantler=dismantler)
    return qs.order_by("-created_at", "-pk")


def intake_get(*, actor, pk) -> ScrappingIntake:
    try:
        intake = (ScrappingIntake.objects.visible_to(actor).select_related(*INTAKE_RELATED, "vehicle")
                  .filter(pk=pk).first())
    except (ValueError, TypeError):
        intake = None
    if intake is None:
        raise NotFound()
    return intake


def intake_files(*, actor) -> QuerySet[IntakeFile]:
    """The intake files uploaded by the actor's enterprise, newest first (nobody else's)."""
    enterprise = getattr(actor, "enterprise", None) if getattr(actor, "kind", None) == "company" else None
    if enterprise is None:
        return IntakeFile.objects.none()
    return IntakeFile.objects.filter(dismantler=enterprise).order_by("-created_at", "-pk")


def intake_file_get(*, actor, pk) -> IntakeFile:
    """One of the enterprise's intake files; anyone else's is NotFound, like one that does not exist."""
    record = intake_files(actor=actor).filter(pk=pk).first()
    if record is None:
        raise NotFound()
    return record


def intake_batteries(intake: ScrappingIntake) -> list[IntakeBattery]:
    return list(intake.batteries.select_related("battery", "holder_at_intake"))


@dataclass(frozen=True)
class LeadBattery:
    """A missing or unexpected battery of a lead, as a reviewer sees it: what the ledger said at intake, where it is
    now, and its ledger events (the holder's missing report shows as the absence of the event)."""

    row: IntakeBattery
    battery: Battery
    events: list


def lead_batteries(intake: ScrappingIntake, *, actor) -> list[LeadBattery]:
    """Regulators only: the enforcement lead's batteries with their last known holder and events — the holder
    may be in another province, and that is the point of the lead. Company staff get nothing here."""
    if actor.kind not in ("reviewer", "admin"):
        return []
    rows = [r for r in intake.batteries.select_related("holder_at_intake") if r.role != "present"]
    batteries = Battery.objects.select_related("holder", "vehicle", "transit_to").in_bulk([r.battery_id for r in rows])
    return [LeadBattery(r, batteries[r.battery_id], list(event_list(batteries[r.battery_id]))) for r in rows]


def lead_counts(*, actor) -> dict:
    """Blocked and mismatched intakes awaiting attention, by the dismantler's province and by dismantler."""
    qs = ScrappingIntake.objects.visible_to(actor).leads()
    by_province = list(qs.values("dismantler__province").annotate(
        blocked=Count("pk", filter=Q(status=IntakeStatus.BLOCKED)),
        mismatched=Count("pk", filter=Q(status=IntakeStatus.AWAITING_DECISION))).order_by("dismantler__province"))
    by_dismantler = list(qs.values("dismantler_id", "dismantler__name", "dismantler__province").annotate(
        blocked=Count("pk", filter=Q(status=IntakeStatus.BLOCKED)),
        mismatched=Count("pk", filter=Q(status=IntakeStatus.AWAITING_DECISION)))
        .order_by("-blocked", "-mismatched", "dismantler__name")[:50])
    totals = qs.aggregate(blocked=Count("pk", filter=Q(status=IntakeStatus.BLOCKED)),
                          mismatched=Count("pk", filter=Q(status=IntakeStatus.AWAITING_DECISION)))
    return {"by_province": by_province, "by_dismantler": by_dismantler, "totals": totals}


def certificate_list(*, actor, q: str | None = None, status: str | None = None, deadline: str | None = None,
                     province: str | None = None) -> QuerySet:
    """Newest first, each with `handover_open`. `q`: the start of a VIN, or part of the certificate number;
    `deadline`: open (batteries still to hand on) or overdue (and past the deadline)."""
    qs = ScrappingCertificate.objects.visible_to(actor).select_related(*CERTIFICATE_RELATED).with_handover_open()
    qs = _search(qs, q, "vin", "number")
    if status:
        qs = qs.filter(status=status)
    if province:
        qs = qs.filter(dismantler__province=province)
    if deadline in ("open", "overdue"):
        qs = qs.filter(handover_open=True, handover_deadline__isnull=False)
        if deadline == "overdue":
            qs = qs.filter(handover_deadline__lt=timezone.localdate())
    return qs.order_by("-issued_on", "-pk")


def certificate_get(*, actor, pk) -> ScrappingCertificate:
    try:
        certificate = (ScrappingCertificate.objects.visible_to(actor).select_related(*CERTIFICATE_RELATED)
                       .with_handover_open().filter(pk=pk).first())
    except (ValueError, TypeError):
        certificate = None
    if certificate is None:
        raise NotFound()
    return certificate


def deadline_state(certificate, *, calendar: WorkdayCalendar | None = None) -> str:
    """The handover deadline's state for a certificate annotated with `handover_open`."""
    today = timezone.localdate()
    left = None
    if certificate.handover_deadline and certificate.handover_open and certificate.handover_deadline >= today:
        left = working_days_between(today, certificate.handover_deadline, calendar=calendar)
    return rules.deadline_state(deadline=certificate.handover_deadline, today=today,
                                handover_open=certificate.handover_open, working_days_left=left)


def certificate_public_get(*, token: str) -> ScrappingCertificate | None:
    """The certificate a verification token names, for the public page; None for a bad or tampered token."""
    certificate_id = certificate_id_from_token(token)
    if certificate_id is None:
        return None
    return (ScrappingCertificate.objects.select_related("dismantler", "intake")
            .select_related("replaced_by").filter(pk=certificate_id).first())
