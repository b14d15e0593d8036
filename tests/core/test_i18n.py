"""The portal is Chinese-first: every source string must have a Simplified Chinese translation.

When a test here fails because strings are missing, update the catalogue, translate, and recompile:

    DATABASE_URL=… .venv/bin/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=.local \
        --ignore=tests --no-obsolete
    # fill in every empty msgstr in locale/zh_Hans/LC_MESSAGES/django.po, remove "#, fuzzy" flags, then:
    msgfmt --check-format -o locale/zh_Hans/LC_MESSAGES/django.mo locale/zh_Hans/LC_MESSAGES/django.po
"""
from __future__ import annotations

import ast
import gettext
import importlib.util
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

ROOT = Path(django_settings.BASE_DIR)
LOCALE_DIR = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = LOCALE_DIR / "django.po"
MO = LOCALE_DIR / "django.mo"
# Same scope as the documented makemessages command (--ignore=.venv --ignore=.local --ignore=tests);
# dot-directories are ignored by makemessages anyway. locale/ is not source, control/ holds broker files.
NOT_SOURCE = {"tests", "locale", "control", "__pycache__", "node_modules"}


# --- a small PO reader (polib is not a dependency) ----------------------------------------------------------

def parse_po(path: Path) -> list[dict]:
    """Entries of a PO file as dicts: msgctxt, msgid, msgid_plural, msgstr (str or list), flags, line.

    Obsolete (#~) entries are skipped. Good enough for what makemessages writes.
    """
    entries: list[dict] = []
    entry: dict = {}
    key = None

    def flush():
        nonlocal entry, key
        if "msgid" in entry:
            entries.append(entry)
        entry, key = {}, None

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#"):
            if "msgstr" in entry:
                flush()
            if line.startswith("#,"):
                entry.setdefault("flags", set()).update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        if line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(key, int):
                entry["msgstr"][key] += value
            else:
                entry[key] += value
            continue
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and "msgstr" in entry:
            flush()
        value = ast.literal_eval(rest)
        entry.setdefault("line", lineno)
        if keyword.startswith("msgstr["):
            key = int(keyword[len("msgstr["):-1])
            forms = entry.setdefault("msgstr", [])
            forms.extend([""] * (key + 1 - len(forms)))
            forms[key] = value
        else:
            key = keyword
            entry[key] = value
    flush()
    for e in entries:
        e.setdefault("flags", set())
        e.setdefault("msgstr", "")
    return entries


def _key(entry: dict) -> tuple:
    return entry.get("msgctxt"), entry["msgid"], entry.get("msgid_plural")


def _describe(entry: dict) -> str:
    ctx = f"[{entry['msgctxt']}] " if entry.get("msgctxt") else ""
    plural = f" / {entry['msgid_plural']!r}" if entry.get("msgid_plural") else ""
    return f"  {ctx}{entry['msgid']!r}{plural}"


def _messages(path: Path) -> list[dict]:
    return [e for e in parse_po(path) if e["msgid"] != "" or e.get("msgctxt")]


# --- the committed catalogue --------------------------------------------------------------------------------

def test_catalogue_is_fully_translated_and_not_fuzzy():
    entries = _messages(PO)
    assert entries, f"{PO} has no messages"
    untranslated = [e for e in entries
                    if not (all(e["msgstr"]) if isinstance(e["msgstr"], list) else e["msgstr"])]
    fuzzy = [e for e in parse_po(PO) if "fuzzy" in e["flags"]]
    problems = []
    if untranslated:
        problems.append(f"{len(untranslated)} untranslated msgid(s) in {PO.relative_to(ROOT)}:\n"
                        + "\n".join(map(_describe, untranslated)))
    if fuzzy:
        problems.append(f"{len(fuzzy)} fuzzy entries (check each translation, then remove '#, fuzzy'):\n"
                        + "\n".join(_describe(e) if e["msgid"] else "  (the header)" for e in fuzzy))
    assert not problems, "\n\n".join(problems)


def test_catalogue_header_declares_chinese_plural_forms_and_utf8():
    header = next(e for e in parse_po(PO) if e["msgid"] == "" and not e.get("msgctxt"))["msgstr"]
    assert "Language: zh_Hans\n" in header
    assert "charset=UTF-8" in header
    assert "Plural-Forms: nplurals=1; plural=0;" in header
    plural_entries = [e for e in _messages(PO) if "msgid_plural" in e]
    wrong = [e for e in plural_entries if len(e["msgstr"]) != 1]
    assert not wrong, "Chinese has one plural form; give exactly msgstr[0]:\n" + "\n".join(
        map(_describe, wrong))


_PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifFeEgGxXorc%]")


def test_translations_keep_every_placeholder():
    """%(name)s and friends must survive translation, or rendering fails or shows a wrong value."""
    bad = []
    for e in _messages(PO):
        if "python-format" not in e["flags"]:
            continue
        sources = [e["msgid"]] + ([e["msgid_plural"]] if "msgid_plural" in e else [])
        targets = e["msgstr"] if isinstance(e["msgstr"], list) else [e["msgstr"]]
        wanted = set().union(*(_PLACEHOLDER.findall(s) for s in sources))
        for t in targets:
            if t and set(_PLACEHOLDER.findall(t)) != wanted:
                bad.append(f"{_describe(e)}\n    -> {t!r}")
    assert not bad, "Placeholders differ between msgid and msgstr:\n" + "\n".join(bad)


def test_every_source_string_is_in_the_catalogue(tmp_path, settings, monkeypatch):
    """Run makemessages on a copy of the sources (never touching the committed catalogue) and require that
    every string it extracts is present, so a developer who adds an untranslated string sees it here."""
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext (xgettext) is not installed; scripts/bootstrap installs it")
    for entry in ROOT.iterdir():
        if entry.name.startswith(".") or entry.name in NOT_SOURCE or entry.name.endswith(".egg-info"):
            continue
        if entry.is_dir():
            shutil.copytree(entry, tmp_path / entry.name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
        elif entry.suffix in (".py", ".html", ".txt"):
            shutil.copy2(entry, tmp_path / entry.name)
    (tmp_path / "locale").mkdir()
    # makemessages writes to LOCALE_PATHS[0] for files outside any locale dir: point it at the copy.
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)
    committed_before = PO.read_bytes()

    call_command("makemessages", locale=["zh_Hans"], ignore_patterns=[".venv", ".local", "tests"],
                 no_obsolete=True, verbosity=0)

    assert PO.read_bytes() == committed_before, "makemessages must not touch the committed catalogue"
    extracted = _messages(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    assert extracted, "makemessages extracted nothing: is the copy of the source tree complete?"
    committed = {_key(e) for e in _messages(PO)}
    missing = sorted((e for e in extracted if _key(e) not in committed),
                     key=lambda e: (e.get("msgctxt") or "", e["msgid"]))
    assert not missing, (
        f"{len(missing)} source string(s) are not in {PO.relative_to(ROOT)}. Run makemessages (see this "
        "module's docstring), translate them into Simplified Chinese and recompile the .mo:\n"
        + "\n".join(map(_describe, missing))
    )


def _load_compile_messages():
    path = ROOT / "scripts" / "compile_messages.py"
    spec = importlib.util.spec_from_file_location("compile_messages", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_mo_is_up_to_date_and_fallback_compiler_agrees(tmp_path):
    """The committed .mo must match the .po (a checkout works before setup), and scripts/compile_messages.py
    (used where msgfmt is missing) must produce the same catalogue, plural entries included."""
    compile_messages = _load_compile_messages()
    fallback_mo = tmp_path / "django.mo"
    compile_messages.write_mo(compile_messages.parse_po(PO), fallback_mo)
    with MO.open("rb") as f:
        committed = gettext.GNUTranslations(f)
    with fallback_mo.open("rb") as f:
        fallback = gettext.GNUTranslations(f)
    # msgfmt drops POT-Creation-Date from the header; compare the messages only.
    committed_catalog = {k: v for k, v in committed._catalog.items() if k != ""}
    fallback_catalog = {k: v for k, v in fallback._catalog.items() if k != ""}
    stale = sorted(str(k) for k in committed_catalog.keys() ^ fallback_catalog.keys())
    stale += sorted(str(k) for k in committed_catalog.keys() & fallback_catalog.keys()
                    if committed_catalog[k] != fallback_catalog[k])
    assert not stale, (f"{MO.relative_to(ROOT)} is out of date with the .po; recompile it with msgfmt "
                       "(see this module's docstring). Differences:\n" + "\n".join(stale[:50]))
    assert fallback.plural(1) == fallback.plural(5) == 0
    for plural in (e for e in _messages(PO) if "msgid_plural" in e):
        for n in (1, 5):
            assert fallback.ngettext(plural["msgid"], plural["msgid_plural"], n) == plural["msgstr"][0]


# --- the pages, in both languages ---------------------------------------------------------------------------

def test_login_page_is_chinese_by_default_and_english_under_en(db):
    client = Client()
    zh = client.get("/accounts/login/")
    assert zh.status_code == 200
    zh_html = zh.content.decode()
    assert "登录" in zh_html
    assert "Sign in" not in zh_html
    assert '<html lang="zh-hans">' in zh_html

    en = client.get("/en/accounts/login/")
    assert en.status_code == 200
    en_html = en.content.decode()
    assert "Sign in" in en_html
    assert "登录" not in en_html


def test_licensed_recyclers_list_in_both_languages(db):
    from tests.factories import EnterpriseFactory, LicenceFactory

    today = timezone.localdate()
    LicenceFactory(enterprise=EnterpriseFactory(name="湖北循环科技有限公司", province="42", roles=["recycler"]),
                   scopes=["hydrometallurgy"], chemistries=["B"],
                   valid_from=today - timedelta(days=30), valid_to=today + timedelta(days=365))
    client = Client()

    zh = client.get("/recyclers/").content.decode()
    assert "<h1>综合利用企业名单</h1>" in zh
    assert "<td>湖北</td>" in zh
    assert "湖北循环科技有限公司" in zh
    assert "再生利用：湿法冶金" in zh
    assert "磷酸铁锂（LFP）" in zh
    assert "全部省份" in zh  # the search form's province filter

    en = client.get("/en/recyclers/").content.decode()
    assert "<h1>Licensed recyclers</h1>" in en
    assert "<td>Hubei</td>" in en
    assert "Material recovery: hydrometallurgy" in en
    assert "Lithium iron phosphate (LFP)" in en
    assert "综合利用企业名单" not in en
