"""The shared date picker (apps.core.forms.DateInput) shows a saved date in every language: <input type=date>
takes only ISO values, and the Chinese locale's own format (2026/11/26) left the box empty, so correcting a
returned licence application lost both of its dates (found by tests/e2e/test_filing_rounds.py)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from apps.core.forms import DateInput
from apps.enterprises.forms import LicenceApplicationForm


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_saved_date_is_rendered_iso_in_every_language(language):
    with translation.override(language):
        assert 'value="2026-11-26"' in DateInput().render("d", dt.date(2026, 11, 26))
        form = LicenceApplicationForm(initial={"valid_from": dt.date(2026, 1, 2), "valid_to": dt.date(2029, 1, 1)})
        assert 'value="2026-01-02"' in str(form["valid_from"]) and 'value="2029-01-01"' in str(form["valid_to"])


def test_an_iso_date_is_accepted_back_in_chinese():
    with translation.override("zh-hans"):
        form = LicenceApplicationForm(data={"valid_from": "2026-01-02"})
        form.is_valid()
        assert form.cleaned_data["valid_from"] == dt.date(2026, 1, 2)
