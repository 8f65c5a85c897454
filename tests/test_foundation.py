"""The application factory, configuration and schema."""

from __future__ import annotations

from cxactions import create_app
from cxactions.config import normalise_database_url


def test_bare_postgresql_url_means_psycopg3():
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_factory_reads_instance_path_and_database_url_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CXACTIONS_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert app.instance_path == str(tmp_path / "inst")
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'inst'}/cxactions.sqlite3"
    )
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@127.0.0.1/cx")
    assert (
        create_app().config["SQLALCHEMY_DATABASE_URI"]
        == "postgresql+psycopg://someone@127.0.0.1/cx"
    )


def test_creating_the_app_touches_no_database_or_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("CXACTIONS_INSTANCE_PATH", str(tmp_path / "never"))
    monkeypatch.setenv("SECRET_KEY", "x")
    create_app()
    assert not (tmp_path / "never").exists()


def test_health(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
