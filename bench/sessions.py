"""Benchmark: what server-side sessions and sign-in throttling cost each request.

Every signed-in request now reads its session row (by the SHA-256 of the cookie's token), and
every sign-in counts the recent failures of its account and address. Measured with 100,000
session rows and 100,000 failed sign-ins in the tables (a large company after a password-
spraying attack), on SQLite (the embedded default) and PostgreSQL (``--postgres``, an admin URL;
skipped with ``--postgres ''``). Writes the "Sessions" section of bench/RESULTS.md.

    python bench/sessions.py [--rows 100000] [--postgres URL] [--no-write]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from results_file import write_section  # noqa: E402

REPEAT = 300


def measure(database_url: str, rows: int) -> dict[str, float]:
    import sqlalchemy as sa
    from werkzeug.security import generate_password_hash

    from cxactions import create_app
    from cxactions.auth import throttle
    from cxactions.auth.models import Role, SignInAttempt, User, UserSession
    from cxactions.auth.sessions import user_for_token
    from cxactions.foundations.db_types import utcnow
    from cxactions.foundations.extensions import db

    instance = tempfile.mkdtemp(prefix="cxactions-bench-sessions-")
    app = create_app(
        {
            "SECRET_KEY": "bench-" + "x" * 32,
            "INSTANCE_PATH": instance,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SEARCH_INDEX_PATH": os.path.join(instance, "index"),
            "WTF_CSRF_ENABLED": False,
            "IMPACT_BACKGROUND_REFRESH": False,
        }
    )
    figures: dict[str, float] = {}
    with app.app_context():
        db.create_all()
        users = [
            {
                "email": f"user{n}@bench.example",
                "role": Role.STAFF.value,
                "password_hash": "x",
                "active": True,
                "created_at": utcnow(),
            }
            for n in range(1000)
        ]
        db.session.execute(sa.insert(User), users)
        ids = db.session.scalars(sa.select(User.id)).all()
        now = utcnow()
        tokens = [secrets.token_urlsafe(32) for _ in range(rows)]
        db.session.execute(
            sa.insert(UserSession),
            [
                {
                    "user_id": ids[n % len(ids)],
                    "token_hash": hashlib.sha256(token.encode()).hexdigest(),
                    "remember": n % 2 == 0,
                    "created_at": now,
                    "expires_at": now + timedelta(days=14),
                }
                for n, token in enumerate(tokens)
            ],
        )
        db.session.execute(
            sa.insert(SignInAttempt),
            [
                {
                    "at": now - timedelta(seconds=n % 3600),
                    "email": f"target{n % 5000}@bench.example",
                    "ip": f"10.{n % 250}.{(n // 250) % 250}.{n % 7}",
                }
                for n in range(rows)
            ],
        )
        db.session.commit()

        lookups = []
        for token in tokens[:REPEAT]:
            db.session.expire_all()
            started = time.perf_counter()
            assert user_for_token(db.session, token) is not None
            lookups.append(time.perf_counter() - started)
        figures["lookup_median"] = statistics.median(lookups) * 1e3
        figures["lookup_p95"] = statistics.quantiles(lookups, n=20)[-1] * 1e3

        limits = throttle.Limits.from_config(app.config)
        checks = []
        for n in range(REPEAT):
            started = time.perf_counter()
            throttle.seconds_to_wait(db.session, f"target{n}@bench.example", f"10.{n}.0.1", limits)
            checks.append(time.perf_counter() - started)
        figures["throttle_median"] = statistics.median(checks) * 1e3
        figures["throttle_p95"] = statistics.quantiles(checks, n=20)[-1] * 1e3

        # A whole signed-in request (session read, page rendered) and a whole sign-in.
        user = db.session.get(User, ids[0])
        user.password_hash = generate_password_hash("bench password")
        db.session.commit()
        client = app.test_client()
        started = time.perf_counter()
        response = client.post("/login", data={"email": user.email, "password": "bench password"})
        figures["sign_in"] = (time.perf_counter() - started) * 1e3
        assert response.status_code == 302, response.status_code
        pages = []
        for _ in range(100):
            started = time.perf_counter()
            # Its own application context, as on a server: the session is read every time.
            with app.app_context():
                assert client.get("/account/password").status_code == 200
            pages.append(time.perf_counter() - started)
        figures["page_median"] = statistics.median(pages) * 1e3
        db.session.remove()
        db.engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    results = {"SQLite": measure(f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3", args.rows)}
    if args.postgres:
        import sqlalchemy as sa

        admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        name = f"cxactions_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            url = sa.engine.make_url(args.postgres).set(database=name)
            results["PostgreSQL"] = measure(url.render_as_string(hide_password=False), args.rows)
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    names = list(results)
    lines = [
        "## Sessions and sign-in throttling",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores "
        f"({platform.machine()}, {platform.system()}), Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version} by `bench/sessions.py`.",
        "",
        f"Data: {args.rows:,} session rows of 1,000 users and {args.rows:,} failed sign-ins "
        "(5,000 e-mail addresses, 250 × 250 client addresses) in the last hour.",
        "",
        "| figure | " + " | ".join(names) + " |",
        "| --- |" + " ---: |" * len(names),
    ]
    rows = [
        ("session read per request (token hash lookup), median / p95", "lookup"),
        ("sign-in throttle check (account + address), median / p95", "throttle"),
    ]
    for label, key in rows:
        cells = [
            f"{results[n][key + '_median']:.2f} / {results[n][key + '_p95']:.2f} ms" for n in names
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append(
        "| a whole signed-in page (`/account/password`, test client), median | "
        + " | ".join(f"{results[n]['page_median']:.1f} ms" for n in names)
        + " |"
    )
    lines.append(
        "| a whole sign-in (scrypt password hash included) | "
        + " | ".join(f"{results[n]['sign_in']:.0f} ms" for n in names)
        + " |"
    )
    lines += [
        "",
        "The session read is one query: an indexed lookup (`uq_user_sessions_token_hash`) with "
        "the user joined in; the throttle check two index range scans (`ix_sign_in_attempts_email_at`, "
        "`ix_sign_in_attempts_ip_at`). A sign-in is dominated by the password hash, which an "
        "unknown account pays too.",
    ]
    section = "\n".join(lines) + "\n"
    print(section)
    if not args.no_write:
        write_section("## Sessions and sign-in throttling", section)


if __name__ == "__main__":
    main()
