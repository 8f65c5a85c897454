"""A CX lead uploads a broken file, reads the report, fixes it and imports it, in a browser."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cxactions.auth.models import Role
from cxactions.foundations.extensions import db
from cxactions.units.models import Unit
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_cx_lead_fixes_a_file_from_the_report_then_imports_it(page, make_user, tmp_path):
    make_user(Role.CX_LEAD, email="lea@example.com")
    broken = tmp_path / "units.csv"
    broken.write_text("unit_id,name,parent_id\nR1,North,\nS1,,R1\nS2,Store 2,R-NOWHERE\n")

    sign_in(page, "lea@example.com")
    page.click("nav >> text=Import")
    page.wait_for_url("**/imports")
    assert page.locator("text=No import yet.").is_visible()

    page.select_option("select[name=kind]", "units")
    page.set_input_files("input[name=file]", str(broken))
    page.get_by_role("button", name="Import", exact=True).click()
    alert = page.locator("#import-result[role=alert]")
    assert "Nothing was imported." in alert.inner_text()
    report = page.locator("#import-errors tbody tr")
    assert report.count() == 2
    assert report.nth(0).inner_text().split("\t") == ["3", "name", "required, but empty"]
    assert "unknown unit_id 'R-NOWHERE'" in report.nth(1).inner_text()
    assert page.locator("select[name=kind]").input_value() == "units"  # the choice is kept
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 0

    fixed = tmp_path / "units-fixed.csv"
    fixed.write_text("unit_id,name,parent_id\nR1,North,\nS1,Store 1,R1\nS2,Store 2,R1\n")
    page.set_input_files("input[name=file]", str(fixed))
    page.get_by_role("button", name="Import", exact=True).click()
    status = page.locator("#import-result[role=status]")
    assert "3 rows read: 3 inserted, 0 updated, 0 unchanged" in status.inner_text()
    assert page.locator("#import-runs tbody tr").count() == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 3
