"""Slowing down password guessing: failed sign-ins counted per account and per address.

Failures are rows of ``sign_in_attempts`` in the database, so every worker process (and every
server behind the same database) counts the same failures, with nothing more to run beside the
embedded SQLite; the rows are also the log of failed sign-ins. An account is counted by the
e-mail address typed, whether or not it exists, so the answer never tells which addresses have
accounts. Past the limit, sign-in is refused — even with the right password — until the oldest
failure of the window has aged out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cxactions.auth.models import SignInAttempt
from cxactions.foundations.db_types import utcnow

# Failures older than this are deleted when new ones are written: the table stays small.
KEEP_FAILURES = timedelta(days=1)


@dataclass(frozen=True)
class Limits:
    window: timedelta
    per_account: int
    per_address: int

    @classmethod
    def from_config(cls, config) -> Limits:
        return cls(
            window=config["SIGN_IN_WINDOW"],
            per_account=config["SIGN_IN_MAX_FAILURES_PER_ACCOUNT"],
            per_address=config["SIGN_IN_MAX_FAILURES_PER_ADDRESS"],
        )


def seconds_to_wait(
    session: Session, email: str, address: str, limits: Limits, now: datetime | None = None
) -> int:
    """0 when a sign-in may be tried now, else how many seconds until it may."""
    now = now or utcnow()
    since = now - limits.window
    waits = [
        _wait(session, SignInAttempt.email == email, limits.per_account, since, limits, now),
        _wait(session, SignInAttempt.ip == address, limits.per_address, since, limits, now),
    ]
    return max(waits)


def _wait(session: Session, criterion, limit: int, since: datetime, limits: Limits, now) -> int:
    # Sign-in opens again when the limit-th newest failure of the window ages out.
    blocking = session.scalar(
        select(SignInAttempt.at)
        .where(criterion, SignInAttempt.at > since)
        .order_by(SignInAttempt.at.desc())
        .offset(limit - 1)
        .limit(1)
    )
    if blocking is None:
        return 0
    return max(1, math.ceil((blocking + limits.window - now).total_seconds()))


def record_failure(session: Session, email: str, address: str) -> None:
    """Count a failed sign-in (committed by the caller)."""
    now = utcnow()
    session.add(SignInAttempt(at=now, email=email[:254], ip=address[:45]))
    session.execute(
        delete(SignInAttempt)
        .where(SignInAttempt.at < now - KEEP_FAILURES)
        .execution_options(synchronize_session=False)
    )


def forget_failures(session: Session, email: str) -> None:
    """A successful sign-in clears the account's failures (not the address's)."""
    session.execute(
        delete(SignInAttempt)
        .where(SignInAttempt.email == email)
        .execution_options(synchronize_session=False)
    )
