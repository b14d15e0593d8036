"""Seed the composition table (ChemistryComposition): typical mass fractions of each metal in a whole pack, per
chemistry. The values and their sources are documented on the model and in ADR 0012."""
from decimal import Decimal

from django.db import migrations

# chemistry: (nickel, cobalt, manganese, lithium, copper, aluminium, note)
TYPICAL = {
    "E": ("0.0760", "0.0260", "0.0240", "0.0150", "0.0700", "0.1600",
          "Ternary, NCM 622 as the typical blend: cathode ~30 % of cell, cells ~70 % of pack."),
    "B": ("0", "0", "0", "0.0100", "0.0850", "0.1800", "LFP: LiFePO4 cathode (Li 4.4 %), no Ni/Co/Mn."),
    "A": ("0.2600", "0.0300", "0.0100", "0", "0.0200", "0.1000", "NiMH: nickel hydroxide and AB5 alloy, no Li."),
    "C": ("0", "0", "0.1280", "0.0080", "0.0700", "0.1600", "LMO: LiMn2O4 cathode (Mn 60.8 %, Li 3.8 %)."),
    "D": ("0", "0.1260", "0", "0.0150", "0.0700", "0.1600", "LCO: LiCoO2 cathode (Co 60.2 %, Li 7.1 %)."),
    "F": ("0", "0", "0", "0", "0.0200", "0.2500", "Supercapacitor: aluminium foil and casing."),
    "G": ("0", "0", "0.1000", "0.0200", "0.0200", "0.2000", "LTO anode with an LMO cathode (Al foil both sides)."),
    "Z": ("0", "0", "0", "0", "0", "0", "Other: no metal content assumed; outputs from it are for a reviewer."),
}


def seed(apps, schema_editor):
    ChemistryComposition = apps.get_model("filings", "ChemistryComposition")
    for chemistry, (ni, co, mn, li, cu, al, note) in TYPICAL.items():
        ChemistryComposition.objects.update_or_create(chemistry=chemistry, defaults={
            "nickel": Decimal(ni), "cobalt": Decimal(co), "manganese": Decimal(mn), "lithium": Decimal(li),
            "copper": Decimal(cu), "aluminium": Decimal(al), "note": note})


def unseed(apps, schema_editor):
    apps.get_model("filings", "ChemistryComposition").objects.filter(chemistry__in=TYPICAL).delete()


class Migration(migrations.Migration):
    dependencies = [("filings", "0003_recovery_reports_and_explanations")]
    operations = [migrations.RunPython(seed, unseed)]
