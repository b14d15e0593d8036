"""Two dismantlers take in the same VIN at the same instant: exactly one succeeds, the other is refused by the rule
(not by the database), and nothing is half-written. Real threads, each with its own connection, against real
PostgreSQL; the test holds the vehicle's row lock until both are waiting on it, then lets them go together (the
gate of tests/batteries/test_concurrency.py)."""
from __future__ import annotations

import pytest

from apps.scrapping import services
from apps.scrapping.models import IntakeBattery, ScrappingCertificate, ScrappingIntake
from tests.batteries.test_concurrency import Race, error_codes, gate, warm
from tests.scrapping.conftest import CONVENTIONAL_VIN, VIN, intake_args

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_dismantlers_take_in_the_same_vin_exactly_one_wins(dismantler, dismantler2, nev):
    warm(dismantler, dismantler2)
    calls = [lambda who=who: services.scrapping_intake_create(actor=who, **intake_args(VIN, [nev]))
             for who in (dismantler, dismantler2)]
    race = Race(calls)
    with gate("SELECT id FROM batteries_vehicle WHERE vin = %s FOR UPDATE", [VIN], waiters=2):
        race.start()
    race.finish()

    assert len(race.winners()) == 1, race.outcomes
    assert error_codes(race.errors()) == {"intake_already_open"}
    assert ScrappingIntake.objects.count() == 1 and IntakeBattery.objects.count() == 1


def test_two_intakes_of_one_conventional_vin_serialise_on_the_vin_lock(dismantler, dismantler2):
    warm(dismantler, dismantler2)
    calls = [lambda who=who: services.scrapping_intake_create(actor=who, **intake_args(CONVENTIONAL_VIN, [],
                                                                                       is_nev=False))
             for who in (dismantler, dismantler2)]
    race = Race(calls)
    with gate("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"scrapping-vin:{CONVENTIONAL_VIN}"], waiters=2,
              rows=False):
        race.start()
    race.finish()
    assert len(race.winners()) == 1, race.outcomes
    assert error_codes(race.errors()) == {"intake_already_open"}


def test_two_certificates_for_one_intake_at_once_exactly_one(dismantler, nev):
    intake = services.scrapping_intake_create(actor=dismantler, **intake_args(VIN, [nev]))
    warm(dismantler)
    race = Race([lambda n=n: services.scrapping_certificate_issue(actor=dismantler, intake_id=intake.pk, number=n)
                 for n in ("ZB-RACE-0001", "ZB-RACE-0002")])
    with gate("SELECT id FROM batteries_vehicle WHERE vin = %s FOR UPDATE", [VIN], waiters=2):
        race.start()
    race.finish()
    assert len(race.winners()) == 1, race.outcomes
    assert error_codes(race.errors()) == {"certificate_not_allowed"}
    assert ScrappingCertificate.objects.count() == 1
