"""Column types shared by the feature models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import Enum


def utcnow() -> datetime:
    """Naive UTC timestamp: SQLite has no time zones, so every stored instant is UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def str_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: stored as its string values with a CHECK constraint."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
