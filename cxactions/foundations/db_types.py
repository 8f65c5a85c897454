"""Column types shared by the feature models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import Enum, Index, func
from sqlalchemy.orm import InstrumentedAttribute


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


def unique_ignoring_case(code: InstrumentedAttribute) -> Index:
    """A unique index on ``lower(code)``: codes are keys people type, so no two may differ only
    by case (``ZD3`` and ``zd3`` would otherwise become two units with two pages)."""
    table = code.class_.__tablename__
    return Index(f"uq_{table}_{code.key}_lower", func.lower(code), unique=True)
