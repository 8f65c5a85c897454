"""Fixtures: a fresh app per test on SQLite and on PostgreSQL, clients signed in per role.

Every test that asks for ``app`` (or ``db``, ``client``, ``runner``...) runs twice, once per
database backend. PostgreSQL is the real server on 127.0.0.1 (``CXACTIONS_TEST_PG`` overrides
the URL); when it cannot be reached the PostgreSQL half is skipped on a laptop and fails the
run under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import jinja2
import jinja2.bccache
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

import cxactions.models  # noqa: F401  (every table known before the PostgreSQL schema is made)
from cxactions import create_app
from cxactions.auth.models import Role, User
from cxactions.foundations.extensions import db as _db

TEST_PASSWORD = "correct horse battery"
PG_ADMIN_URL = os.environ.get(
    "CXACTIONS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=["all", "sqlite", "postgresql"],
        default=os.environ.get("CXACTIONS_TEST_BACKEND", "all"),
        help="database backends the app fixture runs on",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--backend")
        backends = ["sqlite", "postgresql"] if chosen == "all" else [chosen]
        if chosen == "all" and metafunc.definition.get_closest_marker("one_backend"):
            # Markup and layout are the same whatever the database: once is enough.
            backends = ["sqlite"]
        metafunc.parametrize("backend", backends, scope="session")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session, with the schema created once."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"cxactions_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        admin.dispose()
        message = f"PostgreSQL unreachable at {PG_ADMIN_URL}: {error.orig}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(url)
    _db.metadata.create_all(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_all_tables(engine: sa.Engine) -> None:
    """Delete every row, children first: on tiny tables far cheaper than TRUNCATE."""
    with engine.begin() as connection:
        for table in reversed(_db.metadata.sorted_tables):
            connection.execute(table.delete())


class SharedTemplateCode(jinja2.BytecodeCache):
    """Compiled templates kept for every test's app of this process: each test builds its own
    app, and compiling the same templates again for each one cost a tenth of the suite. Jinja
    checks each template's source against the code it keeps, so an edited template compiles
    again."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self.code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CODE = SharedTemplateCode()


@pytest.fixture(scope="session")
def sqlite_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database with the whole schema, made once: each SQLite test starts from
    a copy (creating the schema again for each test cost 40 ms of it)."""
    path = tmp_path_factory.mktemp("schema") / "schema.sqlite3"
    engine = sa.create_engine(f"sqlite:///{path}")
    _db.metadata.create_all(engine)
    engine.dispose()
    return path


@pytest.fixture
def app(backend: str, tmp_path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """A fresh application and empty database for one test."""
    instance = tmp_path / "instance"
    instance.mkdir()
    if backend == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_schema"), instance / "test.sqlite3")
        url = f"sqlite:///{instance / 'test.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": url,
            "SEARCH_INDEX_PATH": str(instance / "search-index"),
            # No thread may write while a test (or its teardown) uses the database.
            "IMPACT_BACKGROUND_REFRESH": False,
        }
    )
    application.jinja_env.bytecode_cache = TEMPLATE_CODE
    _forget_cached_figures()
    with application.app_context():
        yield application
        _db.session.remove()
        if backend == "postgresql":
            _empty_all_tables(_db.engine)
        _db.engine.dispose()


def _forget_cached_figures() -> None:
    """Region- and company-wide figures are cached per process, keyed by the database URL and
    its data version: every PostgreSQL test reuses one URL, so each starts with empty caches."""
    from cxactions.foundations.versions import forget_cached_figures

    forget_cached_figures()


class Browser(FlaskClient):
    """A test client whose every request runs in its own application context, as on a server:
    nothing (Flask-Login's user in ``g``, the database session) carries over between requests
    or between two browsers of one test."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def browser_for(app: Flask) -> Browser:
    return Browser(app, app.response_class, use_cookies=True)


@pytest.fixture
def db(app: Flask):
    return _db


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Create a user: ``make_user(Role.MANAGER, units=[unit])``."""
    counter = iter(range(1, 10_000))

    def factory(role: Role = Role.STAFF, *, units=(), email: str | None = None) -> User:
        user = User(email=email or f"{role.value}{next(counter)}@example.com", role=role)
        # A cheap hash: scrypt costs ~0.1 s and these tests are not about hashing.
        user.password_hash = generate_password_hash(TEST_PASSWORD, method="pbkdf2:sha256:1")
        user.units = list(units)
        _db.session.add(user)
        _db.session.commit()
        return user

    return factory


@pytest.fixture
def login(client: FlaskClient) -> Callable[[User], FlaskClient]:
    """Sign ``user`` in on the test client and return the client."""

    def sign_in(user: User) -> FlaskClient:
        response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return sign_in


@pytest.fixture
def client_as(make_user, login) -> Callable[..., FlaskClient]:
    """A client signed in with a fresh user of ``role``: ``client_as(Role.CX_LEAD)``."""

    def factory(role: Role, *, units=()) -> FlaskClient:
        return login(make_user(role, units=units))

    return factory
