"""The upload page: CX leads only, same import as the CLI, size cap, report in the page."""

from __future__ import annotations

import io
import os
import re
import tempfile

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from cxactions.auth.models import Role
from cxactions.foundations.extensions import db as _db
from cxactions.imports.views import InstanceUploadRequest
from cxactions.units.models import Unit
from tests.imports.test_import_service import DATA, database_snapshot


def post(client, kind: str, content: bytes, name: str = "units.csv", **fields):
    data = {"kind": kind, "file": (io.BytesIO(content), name), **fields}
    return client.post("/imports", data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("role", [Role.STAFF, Role.MANAGER])
@pytest.mark.parametrize("method", ["get", "post"])
def test_staff_and_managers_are_refused(client_as, role, method):
    client = client_as(role)
    response = getattr(client, method)("/imports")
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/imports")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.CX_LEAD, Role.ADMIN])
def test_page_states_the_size_cap(client_as, app, role):
    app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024
    page = client_as(role).get("/imports").get_data(as_text=True)
    assert "Files up to 20 MB" in page
    assert "cxactions import KIND FILE" in page


def test_upload_imports_and_lists_the_run(client_as, db):
    client = client_as(Role.CX_LEAD)
    response = post(client, "units", (DATA / "units.csv").read_bytes())
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "units.csv: 7 rows read: 7 inserted, 0 updated, 0 unchanged" in page
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(Unit)) == 7
    assert 'id="import-runs"' in page and "cx_lead" in page  # the run, by its actor's email


def test_invalid_upload_shows_the_report_keeps_the_input_and_writes_nothing(client_as, db):
    client = client_as(Role.CX_LEAD)
    before = database_snapshot()
    content = b"unit_id,name,parent_id\nS1,One,\nS2,,S1\nS3,Three,S-NOWHERE\n"
    response = post(client, "units", content, dry_run="y")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was imported." in page
    assert (
        '<td class="num">3</td><td><code>name</code></td><td class="error">required, but empty</td>'
        in page
    )
    assert "unknown unit_id &#39;S-NOWHERE&#39;" in page
    assert '<option selected value="units">' in page
    assert re.search(r'<input checked[^>]* id="dry_run"', page)
    assert database_snapshot() == before


def test_dry_run_upload_writes_nothing(client_as, db):
    client = client_as(Role.CX_LEAD)
    before = database_snapshot()
    response = post(client, "units", (DATA / "units.csv").read_bytes(), dry_run="y")
    assert response.status_code == 200
    assert "dry run, 7 rows read, all valid" in response.get_data(as_text=True)
    assert database_snapshot() == before


def test_missing_file_is_a_field_error(client_as, db):
    response = client_as(Role.CX_LEAD).post(
        "/imports", data={"kind": "responses"}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose a CSV file to import." in page
    assert '<option selected value="responses">' in page


def test_too_big_an_upload_gets_413(client_as, app, db):
    client = client_as(Role.CX_LEAD)
    app.config["MAX_CONTENT_LENGTH"] = 2048
    before = database_snapshot()
    content = ("unit_id,name\n" + "".join(f"S{i},Store {i}\n" for i in range(500))).encode()
    response = post(client, "units", content)
    assert response.status_code == 413
    assert database_snapshot() == before


def test_uploads_are_spooled_inside_the_instance_folder(client_as, app, db, tmp_path, monkeypatch):
    assert app.request_class is InstanceUploadRequest
    client = client_as(Role.CX_LEAD)
    content = ("unit_id,name\n" + "".join(f"S{i},Store {i:06d}\n" for i in range(40_000))).encode()
    assert len(content) > 600_000  # above Werkzeug's in-memory limit
    boundary, body = encode_multipart(
        {"kind": "units", "dry_run": "y", "file": FileStorage(io.BytesIO(content), "units.csv")}
    )
    # Any temporary file outside the instance folder would now fail.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    response = client.post(
        "/imports", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert "40,000 rows read, all valid" in response.get_data(as_text=True)
    assert os.listdir(os.path.join(app.instance_path, "uploads")) == []
