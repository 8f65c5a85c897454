"""Signing in and out in a real browser, with CSRF protection on."""

from __future__ import annotations

import pytest

from cxactions.auth.models import Role
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


def test_manager_signs_in_and_out(page, make_user):
    manager = make_user(Role.MANAGER, email="maya@example.com")
    page.goto("/login")
    page.fill("input[name=email]", manager.email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("main button[type=submit], main input[type=submit]")
    page.wait_for_url("**/")
    assert "maya@example.com" in page.content()
    page.click("text=Sign out")
    page.wait_for_url("**/")
    assert page.locator("text=Sign in").first.is_visible()


def test_wrong_password_keeps_the_email_and_says_why(page, make_user):
    make_user(Role.STAFF, email="sam@example.com")
    page.goto("/login")
    page.fill("input[name=email]", "sam@example.com")
    page.fill("input[name=password]", "not the password")
    page.click("main button[type=submit], main input[type=submit]")
    assert page.locator("text=Wrong email or password.").is_visible()
    assert page.input_value("input[name=email]") == "sam@example.com"
