"""Chinese at /…, English at /en/…: the address decides the language, not the browser."""
from __future__ import annotations

import pytest

from tests.conftest import signed_in
from tests.web import body, page_text, redirect_path

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = ["/", "/accounts/login/", "/register/", "/recyclers/", "/accounts/password-reset/"]


def test_english_login_page_is_in_english(anon):
    response = anon.get("/en/accounts/login/")
    assert response.status_code == 200
    assert '<html lang="en">' in body(response)
    text = page_text(response)
    assert "Sign in" in text
    assert "Forgot your password?" in text


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_pages_without_a_prefix_are_chinese(anon, path):
    response = anon.get(path)
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in body(response)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_pages_under_en_are_english(anon, path):
    response = anon.get("/en" + path)
    assert response.status_code == 200
    assert '<html lang="en">' in body(response)
    assert "Licensed recyclers" in page_text(response)


def test_the_browser_language_does_not_override_the_address(anon):
    assert '<html lang="zh-hans">' in body(anon.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en"))
    assert '<html lang="en">' in body(anon.get("/en/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-hans"))


def test_signed_in_pages_follow_the_address_too(alice, reviewer):
    assert '<html lang="en">' in body(signed_in(alice).get("/en/dashboard/"))
    assert '<html lang="zh-hans">' in body(signed_in(alice).get("/dashboard/"))
    english = signed_in(reviewer).get("/en/review/enterprises/")
    assert '<html lang="en">' in body(english)
    assert "Enterprises" in page_text(english)


def test_redirects_to_sign_in_stay_in_the_language_of_the_page(anon):
    assert redirect_path(anon.get("/en/dashboard/")).startswith("/en/accounts/login/")
    assert redirect_path(anon.get("/dashboard/")).startswith("/accounts/login/")


def _switch(client, page):
    """Press the language button on `page` as a browser would: post the form's own fields."""
    import re

    html = body(client.get(page))
    form = re.search(r'<form class="lang" action="([^"]+)" method="post">(.*?)</form>', html, re.S)
    assert form, "no language switch on the page"
    fields = dict(re.findall(r'<input name="(\w+)" type="hidden" value="([^"]*)"', form.group(2)))
    language = re.search(r'<button name="language" value="([^"]+)"', form.group(2)).group(1)
    import html as html_lib

    return client.post(form.group(1), {"next": html_lib.unescape(fields["next"]), "language": language})


@pytest.mark.parametrize("page,other", [
    ("/recyclers/?province=44", "/en/recyclers/?province=44"),
    ("/en/recyclers/?province=44", "/recyclers/?province=44"),
    ("/", "/en/"),
    ("/en/", "/"),
    ("/en/accounts/login/", "/accounts/login/"),
])
def test_the_language_button_on_a_page_leads_to_the_same_page_in_the_other_language(anon, page, other):
    assert redirect_path(_switch(anon, page)) == other


def test_the_language_button_works_for_signed_in_users(alice):
    client = signed_in(alice)
    assert redirect_path(_switch(client, "/en/enterprise/staff/")) == "/enterprise/staff/"
    assert redirect_path(_switch(client, "/enterprise/staff/")) == "/en/enterprise/staff/"
