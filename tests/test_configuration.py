"""A bad setting stops the start with one line naming the variable and what it accepts."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from cxactions import create_app
from cxactions.config import ConfigError, settings_from_environment
from cxactions.foundations.extensions import db as _db
from tests.conftest import browser_for

REPO = Path(__file__).resolve().parents[1]
LONG_SECRET = "s" * 32


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"CXACTIONS_ENV": "prod"},
            "CXACTIONS_ENV='prod' is not valid: it accepts one of production, development, testing",
        ),
        (
            {"CXACTIONS_MAX_UPLOAD_MB": "0"},
            "CXACTIONS_MAX_UPLOAD_MB='0' is not valid: it accepts a whole number from 1 to 10240",
        ),
        ({"CXACTIONS_MAX_UPLOAD_MB": "0.5"}, "CXACTIONS_MAX_UPLOAD_MB='0.5' is not valid"),
        ({"CXACTIONS_MAX_UPLOAD_MB": "abc"}, "CXACTIONS_MAX_UPLOAD_MB='abc' is not valid"),
        ({"CXACTIONS_MAX_UPLOAD_MB": "-3"}, "CXACTIONS_MAX_UPLOAD_MB='-3' is not valid"),
        ({"CXACTIONS_IMPORT_CHUNK_ROWS": "ten"}, "CXACTIONS_IMPORT_CHUNK_ROWS='ten'"),
        ({"CXACTIONS_IMPACT_WINDOW": "-1"}, "CXACTIONS_IMPACT_WINDOW='-1'"),
        ({"CXACTIONS_IMPACT_PERIOD": "fortnight"}, "one of week, month, quarter, year"),
        ({"CXACTIONS_IMPACT_CONTROL": "all"}, "CXACTIONS_IMPACT_CONTROL='all'"),
        ({"CXACTIONS_IMPACT_MIN_UNITS": "0"}, "CXACTIONS_IMPACT_MIN_UNITS='0'"),
        ({"CXACTIONS_IMPACT_BACKGROUND_REFRESH": "perhaps"}, "true or false"),
        ({"CXACTIONS_SEARCH_SYNC": "sometimes"}, "one of inline, off"),
        ({"CXACTIONS_SEARCH_LOCK_TIMEOUT": "inf"}, "CXACTIONS_SEARCH_LOCK_TIMEOUT='inf'"),
        ({"CXACTIONS_SEARCH_LOCK_TIMEOUT": "nan"}, "CXACTIONS_SEARCH_LOCK_TIMEOUT='nan'"),
        ({"CXACTIONS_REMEMBER_DAYS": "365"}, "a whole number from 1 to 90"),
        ({"CXACTIONS_SESSION_HOURS": "0"}, "CXACTIONS_SESSION_HOURS='0'"),
        ({"CXACTIONS_PROXY_COUNT": "many"}, "CXACTIONS_PROXY_COUNT='many'"),
    ],
)
def test_a_bad_setting_is_named_with_what_it_accepts(environ, message):
    with pytest.raises(ConfigError) as error:
        settings_from_environment(environ)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("environ", "key", "value"),
    [
        ({"CXACTIONS_MAX_UPLOAD_MB": "7"}, "MAX_CONTENT_LENGTH", 7 * 1024 * 1024),
        ({"CXACTIONS_IMPACT_WINDOW": "0"}, "IMPACT_WINDOW", 0),
        ({"CXACTIONS_IMPACT_BACKGROUND_REFRESH": "no"}, "IMPACT_BACKGROUND_REFRESH", False),
        ({"CXACTIONS_SEARCH_LOCK_TIMEOUT": "2.5"}, "SEARCH_LOCK_TIMEOUT", 2.5),
        ({"CXACTIONS_REMEMBER_DAYS": "3"}, "REMEMBER_COOKIE_DURATION", timedelta(days=3)),
        ({"CXACTIONS_MAX_UPLOAD_MB": ""}, "MAX_CONTENT_LENGTH", 50 * 1024 * 1024),
    ],
)
def test_good_settings_are_read(environ, key, value):
    assert settings_from_environment(environ)[key] == value


def test_development_makes_a_secret_and_production_requires_a_long_one(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    assert len(settings_from_environment({})["SECRET_KEY"]) >= 32
    overrides = {"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    monkeypatch.setenv("CXACTIONS_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app(overrides)
    monkeypatch.setenv("SECRET_KEY", "x")
    with pytest.raises(ConfigError, match="SECRET_KEY has 1 bytes: production needs at least 32"):
        create_app(overrides)
    monkeypatch.setenv("SECRET_KEY", "é" * 16)  # 32 bytes in UTF-8
    assert create_app(overrides).config["SECRET_KEY"] == "é" * 16


def test_a_one_megabyte_cap_still_lets_people_sign_in(app, monkeypatch, tmp_path):
    monkeypatch.setenv("CXACTIONS_MAX_UPLOAD_MB", "1")
    small = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "WTF_CSRF_ENABLED": False,
        }
    )
    assert small.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    with small.app_context():
        response = browser_for(small).post("/login", data={"email": "a@b.example", "password": "x"})
        _db.session.remove()
        _db.engine.dispose()  # its own pool: no connection left for the garbage collector
    assert response.status_code == 400  # a wrong password, not 413


def run(command: list[str], **environ: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CXACTIONS_INSTANCE_PATH": "/nonexistent/instance", **environ}
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=120)


def test_the_command_line_says_one_line_and_exits_2():
    result = run([str(Path(sys.executable).parent / "cxactions"), "drivers"], CXACTIONS_ENV="prod")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: CXACTIONS_ENV='prod' is not valid: it accepts one of production, development, "
        "testing"
    )


def test_the_wsgi_entry_point_says_one_line():
    result = run([sys.executable, "-c", "import wsgi"], CXACTIONS_MAX_UPLOAD_MB="0")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "cxactions: CXACTIONS_MAX_UPLOAD_MB='0' is not valid: it accepts a whole number from 1 "
        "to 10240"
    )
    assert "Traceback" not in result.stderr
