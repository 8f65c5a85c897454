"""`cxactions init` and `cxactions user add`, as the contract describes them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from cxactions.auth.models import User
from cxactions.foundations.vocabulary import Role
from tests.factories import unit_tree
from tests.paths import REPO


def cxactions(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess:
    """Run the real console script in a fresh process."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "cxactions"), *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
    )


@pytest.fixture
def cli_env(tmp_path, backend, request) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CXACTIONS_PASSWORD")}
    env["CXACTIONS_INSTANCE_PATH"] = str(tmp_path / "instance")
    if backend == "postgresql":
        admin = sa.create_engine(
            request.getfixturevalue("postgres_url"), isolation_level="AUTOCOMMIT"
        )
        name = f"cx_cli_{os.getpid()}_{abs(hash(str(tmp_path))) % 10**8}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = admin.url.set(database=name)
        env["DATABASE_URL"] = url.render_as_string(hide_password=False)
        yield env
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        yield env


def test_init_creates_schema_and_index_and_is_idempotent(cli_env, tmp_path):
    first = cxactions("init", env=cli_env)
    assert first.returncode == 0, first.stderr
    second = cxactions("init", env=cli_env)
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "instance" / "search-index").is_dir()
    if "DATABASE_URL" not in cli_env:
        assert (tmp_path / "instance" / "cxactions.sqlite3").is_file()
    search = cxactions("search", "queue", "--format", "json", env=cli_env)
    assert search.returncode == 0 and '"total": 0' in search.stdout


def test_user_add_without_password_or_terminal_fails_with_reason(cli_env):
    assert cxactions("init", env=cli_env).returncode == 0
    result = cxactions("user", "add", "new@example.com", "--role", "staff", env=cli_env, stdin="")
    assert result.returncode != 0
    assert "CXACTIONS_PASSWORD" in result.stderr.strip().splitlines()[-1]


def test_user_add_creates_then_updates_role_and_units(runner, db, monkeypatch):
    units = unit_tree()
    db.session.commit()
    monkeypatch.setenv("CXACTIONS_PASSWORD", "first-password")
    result = runner.invoke(
        args=["user", "add", "Maya@Example.com", "--role", "manager", "--unit", "D1"]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User))
    assert (user.email, user.role, [u.code for u in user.units]) == (
        "maya@example.com",
        Role.MANAGER,
        ["D1"],
    )
    assert user.check_password("first-password")
    old_hash = user.password_hash

    # No password in the environment: the password stays, --unit replaces the units.
    monkeypatch.delenv("CXACTIONS_PASSWORD")
    result = runner.invoke(
        args=[
            "user",
            "add",
            "maya@example.com",
            "--role",
            "manager",
            "--unit",
            "S3",
            "--unit",
            "S4",
        ]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    user = db.session.scalar(sa.select(User))
    assert sorted(u.code for u in user.units) == ["S3", "S4"]
    assert user.password_hash == old_hash
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    assert units  # the tree the user is scoped to


def test_user_add_rejects_unknown_unit_and_changes_nothing(runner, db, monkeypatch):
    unit_tree()
    db.session.commit()
    monkeypatch.setenv("CXACTIONS_PASSWORD", "a-good-password")
    result = runner.invoke(
        args=["user", "add", "x@example.com", "--role", "manager", "--unit", "NOPE"]
    )
    assert result.exit_code != 0
    assert "unknown unit_id: NOPE" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_user_add_rejects_invalid_role(runner, db, monkeypatch):
    monkeypatch.setenv("CXACTIONS_PASSWORD", "a-good-password")
    result = runner.invoke(args=["user", "add", "x@example.com", "--role", "boss"])
    assert result.exit_code != 0
    assert "boss" in result.output


def test_migrations_build_the_same_schema_as_the_models(cli_env):
    """`cxactions init` runs the Alembic migrations; the models must not have drifted from them."""
    assert cxactions("init", env=cli_env).returncode == 0
    check = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "cxactions", "db", "check"],
        capture_output=True,
        text=True,
        env=cli_env,
        cwd=REPO,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
