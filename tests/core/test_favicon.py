"""Every page names its icon (a static SVG), so browsers stop asking for /favicon.ico and logging a 404."""
from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_every_page_links_the_static_favicon(anon):
    html = anon.get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    assert '<link rel="icon"' in anon.get("/accounts/login/").content.decode()


def test_the_favicon_is_a_small_svg_without_scripts():
    path = finders.find("favicon.svg")
    assert path is not None
    text = open(path, encoding="utf-8").read()
    assert text.startswith("<svg") and "<script" not in text and len(text.encode()) < 2048
