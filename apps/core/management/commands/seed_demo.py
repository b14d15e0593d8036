"""Demo data: enterprises of every role in several provinces, a user for each persona, manufacturer codes and
licences. Idempotent: running it again changes nothing. Every write goes through the services."""
from __future__ import annotations

import base64
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import services as account_services
from apps.accounts.models import User
from apps.enterprises import services
from apps.enterprises.models import Enterprise, Membership
from apps.enterprises.rules import uscc_expected_check_character

DEMO_PASSWORD = "Demo-pass-2026"
# Fixed TOTP secrets so that `manage.py demo_totp <user>` can print the current code for the demo.
DEMO_TOTP_KEYS = {"admin": "3132333435363738393031323334353637383930", "reviewer": "3132333435363738393031323334353637383931",
                  "reviewer_gd": "3132333435363738393031323334353637383932"}


def demo_uscc(body17: str) -> str:
    return body17 + uscc_expected_check_character(body17)


ENTERPRISES = [
    # key, name, uscc body, province, roles, manufacturer codes
    ("battery", "闽东新能源动力电池有限公司", "91350900MA2Y00001", "35", ["battery_maker"], ["0PA", "0PB"]),
    ("battery2", "江淮锂电科技股份有限公司", "91340100MA2Y00002", "34", ["battery_maker"], ["1KC"]),
    ("vehicle", "申城新能源汽车有限公司", "91310000MA1Y00003", "31", ["vehicle_maker"], []),
    ("swap", "京畿换电运营服务有限公司", "91110000MA0Y00004", "11", ["swap_operator"], []),
    ("repair", "羊城汽车维修服务有限公司", "91440100MA5Y00005", "44", ["repairer", "collection_point"], []),
    ("collect", "苏南动力电池回收服务网点有限公司", "91320500MA1Y00006", "32", ["collection_point"], []),
    ("dismantle", "江城报废机动车回收拆解有限公司", "91420100MA4Y00007", "42", ["dismantler"], []),
    ("recycler", "湘江资源循环科技有限公司", "91430100MA4Y00008", "43", ["recycler"], []),
    ("recycler2", "赣锋再生材料有限公司", "91360500MA3Y00009", "36", ["recycler"], []),
    ("recycler3", "粤海电池材料回收有限公司", "91440300MA5Y00010", "44", ["recycler"], []),
]

# Scrapping examples: two new-energy vehicles made by the demo carmaker, each with one pack of the demo battery
# maker installed through the ledger. The demo dismantler (dismantle_admin) takes the first in with its battery
# (check complete, certificate allowed) and the second without it (battery missing: blocked, no certificate).
DEMO_SCRAPPING = {
    "complete": {"vin_body": "LSVAD1230N9000001", "serial": 9000001},
    "missing": {"vin_body": "LSVAD1230N9000002", "serial": 9000002},
}


def demo_vin(body: str) -> str:
    from apps.batteries.vin import vin_check_digit

    return body[:8] + vin_check_digit(body) + body[9:]


for _example in DEMO_SCRAPPING.values():
    _example["vin"] = demo_vin(_example["vin_body"])


def demo_battery_code(serial: int, maker_code: str = "0PA") -> str:
    from apps.batteries.codes import encode_production_date

    return f"{maker_code}PE01ABCDEFG{encode_production_date(date(2025, 6, 1))}{serial:07d}"


# Oversight examples (Command._seed_oversight): the packs of the demo battery makers' monthly reports.
DEMO_OVERSIGHT_SERIALS = tuple(range(9100001, 9100008))
DEMO_UNRECEIVED_SERIAL = 9200001
SHANGHAI = ZoneInfo("Asia/Shanghai")

LICENCES = [
    ("recycler", "HB-2026-0001", ["dismantling", "hydrometallurgy"], ["B", "E"], "50000"),
    ("recycler2", "HB-2026-0002", ["dismantling", "hydrometallurgy", "pyrometallurgy"], ["B", "E", "C", "D"], "120000"),
    ("recycler3", "HB-2026-0003", ["dismantling", "repurposing"], ["B"], "20000"),
]


class Command(BaseCommand):
    help = "Create the demo enterprises, users, manufacturer codes and licences (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            created = self._seed()
            self._seed_scrapping()
            oversight = self._seed_oversight()
        if oversight:
            # After the commit: the oversight dashboards read materialized views (ADR 0013).
            from apps.reconciliation.services import dashboard_aggregates_refresh

            dashboard_aggregates_refresh(concurrently=False)
        self.stdout.write(self.style.SUCCESS("Demo data ready" + (" (created)" if created else " (already there)")))
        self.print_logins()

    def _seed(self) -> bool:
        if User.objects.filter(username="admin").exists():
            return False
        admin = account_services.regulator_create(username="admin", email="admin@demo.gov.cn", password=DEMO_PASSWORD,
                                                  kind=User.Kind.ADMIN, full_name="平台管理员")
        reviewer = account_services.regulator_create(username="reviewer", email="reviewer@demo.gov.cn",
                                                     password=DEMO_PASSWORD, kind=User.Kind.REVIEWER,
                                                     full_name="工信部审核员")
        account_services.regulator_create(username="reviewer_gd", email="reviewer.gd@demo.gov.cn", password=DEMO_PASSWORD,
                                          kind=User.Kind.REVIEWER, full_name="广东省审核员", provinces=["44"])
        for user in User.objects.filter(username__in=DEMO_TOTP_KEYS):
            TOTPDevice.objects.create(user=user, name="demo", key=DEMO_TOTP_KEYS[user.username], confirmed=True)

        by_key = {}
        for key, name, body, province, roles, codes in ENTERPRISES:
            enterprise = services.enterprise_register(
                company={"name": name, "uscc": demo_uscc(body), "province": province, "address": f"{name}厂区1号",
                         "contact_name": "张伟", "contact_phone": "010-12345678", "contact_email": f"{key}@demo.example.cn",
                         "roles": roles},
                business_licence=SimpleUploadedFile("licence.pdf", b"%PDF-1.4\n% demo business licence\n%%EOF\n",
                                                    content_type="application/pdf"),
                applicant_username=f"{key}_admin", applicant_email=f"{key}_admin@demo.example.cn",
                applicant_password=DEMO_PASSWORD, applicant_full_name=f"{name[:2]}管理员",
            )
            services.enterprise_registration_approve(actor=reviewer, enterprise=enterprise, comment="材料齐全")
            filer = User(username=f"{key}_filer", email=f"{key}_filer@demo.example.cn", full_name=f"{name[:2]}填报员",
                         kind=User.Kind.COMPANY)
            filer.set_password(DEMO_PASSWORD)
            filer.save()
            Membership.objects.create(user=filer, enterprise=enterprise, role=Membership.Role.FILER)
            for code in codes:
                services.manufacturer_code_assign(actor=admin, enterprise=enterprise, code=code)
            by_key[key] = enterprise

        today = timezone.localdate()
        for key, number, scopes, chemistries, capacity in LICENCES:
            services.recycler_licence_grant(
                actor=admin, enterprise=by_key[key], number=number, scopes=scopes, chemistries=chemistries,
                annual_capacity_tonnes=capacity, valid_from=date(today.year - 1, 1, 1),
                valid_to=date(today.year + 3, 12, 31),
            )
        # One application waiting for a reviewer, to try the review flow.
        services.enterprise_register(
            company={"name": "蓉城新能源回收有限公司", "uscc": demo_uscc("91510100MA6Y00011"), "province": "51",
                     "address": "成都市高新区1号", "contact_name": "李娜", "contact_phone": "028-12345678",
                     "contact_email": "pending@demo.example.cn", "roles": ["recycler", "collection_point"]},
            business_licence=SimpleUploadedFile("licence.pdf", b"%PDF-1.4\n% demo\n%%EOF\n"),
            applicant_username="pending_admin", applicant_email="pending_admin@demo.example.cn",
            applicant_password=DEMO_PASSWORD, applicant_full_name="李娜",
        )
        return True

    def _seed_scrapping(self) -> None:
        """Each example vehicle gets its pack through the ledger services (register → hand over → receive →
        install) unless it is already there: running the command again changes nothing."""
        from apps.batteries import services as battery_services
        from apps.batteries.models import Vehicle

        maker = User.objects.filter(username="battery_admin").first()
        carmaker = User.objects.filter(username="vehicle_admin").first()
        if maker is None or carmaker is None:
            return
        for example in DEMO_SCRAPPING.values():
            if Vehicle.objects.filter(vin=example["vin"]).exists():
                continue
            code = demo_battery_code(example["serial"])
            battery_services.battery_register(actor=maker, code=code, capacity_kwh="60.5", weight_kg="410")
            battery_services.battery_hand_over(actor=maker, code=code, recipient=carmaker.enterprise)
            battery_services.battery_receive(actor=carmaker, code=code)
            battery_services.battery_install(actor=carmaker, code=code, vin=example["vin"], model_name="申城 E5")

    def _seed_oversight(self) -> bool:
        """What the oversight pages show, planted through the services with dates relative to today:
        monthly pack-count reports (approved; submitted but differing from the ledger; returned with a
        comment; one enterprise not filing past the due date), recovery reports (one below the thresholds,
        one fine), a licence application, a reconciliation run with a handover not received in time and
        report mismatches (the handover explained by an explanation filing), an issued warning awaiting the
        enterprise's answer and a draft order to correct. Done once: skipped when the demo battery maker
        already has a monthly report (a later run changes nothing, whatever the date). Returns whether it
        created anything."""
        from apps.batteries import services as battery_services
        from apps.enforcement import services as enforcement
        from apps.filings import explanation_services, recovery_services
        from apps.filings import services as filings
        from apps.filings.models import Filing, FilingKind, FilingTransition
        from apps.reconciliation.models import Check, Discrepancy
        from apps.reconciliation.services import reconciliation_run

        names = ["admin", "reviewer", "reviewer_gd", "battery_admin", "battery2_admin", "vehicle_admin",
                 "swap_admin", "recycler_admin", "recycler2_admin", "recycler3_admin"]
        users = {u.username: u for u in User.objects.filter(username__in=names)}
        if len(users) < len(names):
            return False
        maker, maker2, carmaker = users["battery_admin"], users["battery2_admin"], users["vehicle_admin"]
        reviewer = users["reviewer"]
        if Filing.objects.filter(enterprise=maker.enterprise, kind=FilingKind.MONTHLY_REPORT).exists():
            return False

        today = timezone.localdate()
        month1 = (today.replace(day=1) - timedelta(days=1)).replace(day=1)  # last month: the reports
        month2 = (month1 - timedelta(days=1)).replace(day=1)  # the month before: always past its due date

        def at(day: date, hour: int = 10) -> datetime:
            return datetime.combine(day, time(hour), SHANGHAI)

        # The portal has no service for a registration in the past; this and the submission dates below are
        # the demo's only direct writes, to its clock. Three enterprises have reported since month1 (they owe
        # its report, and file it); 京畿换电 since month2, and files nothing (overdue).
        Enterprise.objects.filter(pk__in=[u.enterprise.pk for u in (maker, maker2, carmaker)]).update(
            created_at=at(month1, 8), approved_at=at(month1, 9))
        Enterprise.objects.filter(pk=users["swap_admin"].enterprise.pk).update(created_at=at(month2, 8),
                                                                               approved_at=at(month2, 9))

        # The ledger of month1: 闽东 makes seven packs, hands two to 申城 (which receives them), declares four
        # defective ones waste and hands two each to the recyclers 湘江 and 赣锋 (which receive them); 江淮 makes
        # one and hands it to 申城 twenty days ago, never received (handover_not_received).
        made = [demo_battery_code(serial) for serial in DEMO_OVERSIGHT_SERIALS]
        for code in made:
            battery_services.battery_register(actor=maker, code=code, capacity_kwh="60.5", weight_kg="410",
                                              occurred_at=at(month1.replace(day=5)))
        recipients = [carmaker] * 2 + [users["recycler_admin"]] * 2 + [users["recycler2_admin"]] * 2
        for code, recipient in zip(made, recipients):
            if recipient is not carmaker:
                battery_services.battery_declare_waste(actor=maker, code=code, reason="出厂检验不合格",
                                                       occurred_at=at(month1.replace(day=7)))
            battery_services.battery_hand_over(actor=maker, code=code, recipient=recipient.enterprise,
                                               occurred_at=at(month1.replace(day=8)))
            battery_services.battery_receive(actor=recipient, code=code,
                                             occurred_at=at(month1.replace(day=9)))
        lost = demo_battery_code(DEMO_UNRECEIVED_SERIAL, maker_code="1KC")
        battery_services.battery_register(actor=maker2, code=lost, capacity_kwh="55", weight_kg="380",
                                          occurred_at=at(month1.replace(day=6)))
        battery_services.battery_hand_over(actor=maker2, code=lost, recipient=carmaker.enterprise,
                                           occurred_at=at(today - timedelta(days=20)))

        # Monthly pack-count reports for month1.
        approved = filings.monthly_report_create(actor=maker, month=month1,
                                                 counts={"produced": 7, "handed_over": 6, "in_stock": 1})
        filings.filing_submit(actor=maker, filing_id=approved.pk)
        filings.filing_claim(actor=reviewer, filing_id=approved.pk)
        filings.filing_approve(actor=reviewer, filing_id=approved.pk, comment="与台账一致，通过。")
        mismatch = filings.monthly_report_create(actor=maker2, month=month1,
                                                 counts={"produced": 120, "handed_over": 100, "in_stock": 20})
        filings.filing_submit(actor=maker2, filing_id=mismatch.pk)  # flagged ledger_mismatch
        returned = filings.monthly_report_create(actor=carmaker, month=month1,
                                                 counts={"received": 2, "in_stock": 0})
        filings.filing_submit(actor=carmaker, filing_id=returned.pk)
        filings.filing_claim(actor=reviewer, filing_id=returned.pk)
        filings.filing_return(actor=reviewer, filing_id=returned.pk,
                              comment="本月接收2个电池包且未装车，期末库存应为2而非0，请更正后重新提交。")

        # Recovery reports for month1 (the ternary packs received): 湘江 declares more input than the two packs
        # (820 kg) it received (mass_balance) and recovers too little lithium (below_threshold); 赣锋's is fine.
        fractions = recovery_services.composition_fractions().get("E", {})

        def outputs(input_kg: Decimal, rates: dict[str, str]) -> dict[str, Decimal]:
            return {metal: (input_kg * Decimal(fractions.get(metal, 0)) * Decimal(rate))
                    .quantize(Decimal("0.001"), rounding=ROUND_DOWN) for metal, rate in rates.items()}

        reports = {}
        for username, input_kg, lithium in (("recycler_admin", Decimal("2000"), "0.82"),
                                            ("recycler2_admin", Decimal("820"), "0.93")):
            report = recovery_services.recovery_report_create(
                actor=users[username], month=month1, inputs={"E": input_kg},
                outputs=outputs(input_kg, {"ni": "0.985", "co": "0.985", "mn": "0.985", "li": lithium}))
            filings.filing_submit(actor=users[username], filing_id=report.pk)
            reports[username] = report
        below = reports["recycler_admin"]
        # The reports were filed on time, three days before their due date (or now, if that is still to come).
        for filing in (approved, mismatch, returned, *reports.values()):
            when = min(at(filing.due_date - timedelta(days=3)), timezone.now())
            Filing.objects.filter(pk=filing.pk).update(first_submitted_at=when, submitted_at=when)
            FilingTransition.objects.filter(filing=filing, action="submit").update(created_at=when)

        # A licence application awaiting an administrator: 粤海 renews after its licence ends.
        recycler3 = users["recycler3_admin"]
        application = services.licence_application_create(
            actor=recycler3, document=SimpleUploadedFile("licence.pdf", b"%PDF-1.4\n% demo licence\n%%EOF\n",
                                                         content_type="application/pdf"),
            data={"number": f"HB-{today.year + 4}-0003",
                  "scopes": ["dismantling", "repurposing", "hydrometallurgy"],
                  "chemistries": ["B", "E"], "annual_capacity_tonnes": "30000",
                  "valid_from": date(today.year + 4, 1, 1), "valid_to": date(today.year + 8, 12, 31),
                  "address": "深圳市宝安区循环经济产业园1号"})
        filings.filing_submit(actor=recycler3, filing_id=application.pk)

        # The reconciliation run over all of it, then 申城 explains the handover it never received.
        reconciliation_run()
        unreceived = Discrepancy.objects.get(enterprise=carmaker.enterprise,
                                             kind=Check.HANDOVER_NOT_RECEIVED)
        explanation = explanation_services.explanation_create(
            actor=carmaker, discrepancy_id=unreceived.pk,
            text="该电池包在运输途中因包装破损退回江淮锂电仓库，物流单据已上传；江淮锂电将补录退回记录。")
        filings.filing_submit(actor=carmaker, filing_id=explanation.pk)

        # Enforcement: a warning to 江淮 for its report (drafted by `reviewer`, approved by a second reviewer
        # with the province in scope, else the administrator), the enterprise's answer pending; and a draft.
        reviewer_gd = users["reviewer_gd"]
        in_scope = maker2.enterprise.province in reviewer_gd.reviewer_provinces
        approver = reviewer_gd if in_scope else users["admin"]
        warning = enforcement.enforcement_action_create(
            actor=reviewer, enterprise_id=maker2.enterprise.pk, kind="warning",
            facts=f"{month1:%Y年%m月}月度报告申报生产120个、移交100个电池包，溯源台账当月仅记录生产1个。",
            legal_basis="《新能源汽车动力蓄电池回收利用溯源管理暂行规定》第十条",
            deadline=today + timedelta(days=30), filing_ids=[mismatch.pk],
            discrepancy_ids=list(Discrepancy.objects.filter(enterprise=maker2.enterprise,
                                                            kind=Check.REPORTED_VS_LEDGER)
                                 .values_list("pk", flat=True)))
        enforcement.enforcement_action_submit(actor=reviewer, action_id=warning.pk, comment="请复核后签发。")
        enforcement.enforcement_action_approve(actor=approver, action_id=warning.pk, comment="同意签发。")
        enforcement.enforcement_action_create(
            actor=reviewer, enterprise_id=below.enterprise_id, kind="order_to_correct",
            facts=f"{month1:%Y年%m月}回收利用报告锂回收率约82%，低于90%的行业规范条件。",
            legal_basis="《新能源汽车废旧动力电池综合利用行业规范条件（2024年本）》",
            deadline=today + timedelta(days=45), filing_ids=[below.pk])
        return True

    def print_logins(self) -> None:
        w = self.stdout.write
        w("")
        w("Demo logins (password for all: %s)" % DEMO_PASSWORD)
        w("  admin          administrator (2FA)")
        w("  reviewer       ministry reviewer, national (2FA)")
        w("  reviewer_gd    ministry reviewer, Guangdong only (2FA)")
        for key, name, *_ in ENTERPRISES:
            w(f"  {key}_admin / {key}_filer".ljust(40) + name)
        w("  pending_admin                          an application awaiting review")
        w("2FA for the demo regulators: `manage.py demo_totp <username>` prints the current code,")
        for username, hexkey in DEMO_TOTP_KEYS.items():
            secret = base64.b32encode(bytes.fromhex(hexkey)).decode().rstrip("=")
            w(f"  or add the key {secret} ({username}) to an authenticator app.")
        w("Scrapping (dismantle_admin takes the vehicles in):")
        complete = DEMO_SCRAPPING["complete"]
        w(f"  {complete['vin']}  with battery {demo_battery_code(complete['serial'])} → complete, certificate allowed")
        w(f"  {DEMO_SCRAPPING['missing']['vin']}  arrives without its battery (list no code) → blocked, no certificate")
        w("Oversight (last month, relative to today): reviewer → review queue (ledger mismatch, below")
        w("  threshold, licence application, explanation), overdue reports (swap), discrepancies,")
        w("  enforcement (a warning issued to battery2, a draft for recycler), dashboards;")
        w("  swap_admin → due and overdue reports.")
