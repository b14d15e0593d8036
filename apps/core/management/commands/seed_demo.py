"""Demo data: enterprises of every role in several provinces, a user for each persona, manufacturer codes and
licences. Idempotent: running it again changes nothing. Every write goes through the services."""
from __future__ import annotations

import base64
from datetime import date

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


def demo_battery_code(serial: int) -> str:
    from apps.batteries.codes import encode_production_date

    return f"0PAPE01ABCDEFG{encode_production_date(date(2025, 6, 1))}{serial:07d}"


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
