"""Bulk writing for the import loaders: dialect-specific ``INSERT ... ON CONFLICT`` (``upsert``,
``upsert_statement``), ``execute_many`` on the DBAPI cursor, and the converters that turn
columns into what the driver stores on that fast path (dates, date-times, JSON text).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cxactions.foundations.db_types import utcnow


def _dialect_insert(session: Session, table: sa.Table):
    # Lazy: importing the PostgreSQL dialect costs ~60 ms, and only the bound one is needed.
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def upsert(session: Session, table: sa.Table, key: list[str], update: list[str]):
    """``INSERT ... ON CONFLICT (key) DO UPDATE`` of ``update``, for rows known to be new or changed.

    Executed with a list of parameter dicts (one executemany); column defaults apply to the
    inserted rows. ON CONFLICT does not apply ``onupdate`` by itself, so ``updated_at`` is set.
    """
    statement = _dialect_insert(session, table)
    values = {name: statement.excluded[name] for name in update}
    if "updated_at" in table.c:
        values["updated_at"] = utcnow()
    return statement.on_conflict_do_update(index_elements=key, set_=values)


def upsert_statement(
    session: Session, table: sa.Table, columns: list[str], key: list[str], update: list[str]
):
    """``INSERT ... ON CONFLICT (key) DO UPDATE`` of ``update`` columns, only when they differ.

    For the bulk path (``execute_many``): rows whose values are already stored are left alone,
    so re-importing a file rewrites nothing and the driver's rowcount counts only inserted and
    changed rows.
    """
    statement = _dialect_insert(session, table).values(
        {name: sa.bindparam(name, type_=table.c[name].type) for name in columns}
    )
    if not update:
        return statement.on_conflict_do_nothing(index_elements=key)
    excluded = statement.excluded
    changes = [
        _comparable(table.c[name]).is_distinct_from(_comparable(excluded[name])) for name in update
    ]
    values = {name: excluded[name] for name in update}
    return statement.on_conflict_do_update(index_elements=key, set_=values, where=sa.or_(*changes))


def _comparable(column: sa.ColumnElement) -> sa.ColumnElement:
    # PostgreSQL's json type has no equality operator; its text is what was written.
    if isinstance(column.type, sa.JSON):
        return sa.cast(column, sa.Text)
    return column


_NAMED_PARAMETER = re.compile(r"%\((\w+)\)s")


def execute_many(session: Session, statement, rows: list[tuple], columns: list[str]) -> int:
    """Run a compiled Core statement on the DBAPI cursor for many rows; returns the rowcount.

    The fast path for millions of rows: no per-row SQLAlchemy processing, so values must be
    what the driver stores (ISO strings for dates, JSON text, plain floats). ``rows`` hold
    ``columns`` in order.
    """
    connection = session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    sql = compiled.string
    if compiled.positiontup is not None:
        names = list(compiled.positiontup)
    else:  # pyformat (psycopg): switch to positional %s, remembering the order
        names = _NAMED_PARAMETER.findall(sql)
        sql = _NAMED_PARAMETER.sub("%s", sql)
    if names != columns:
        order = [columns.index(name) for name in names]
        rows = [tuple(row[index] for index in order) for row in rows]
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(sql, rows)
        return max(cursor.rowcount, 0)
    finally:
        cursor.close()


def sqlite_datetimes(values: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD HH:MM:SS.ffffff`` strings (SQLAlchemy's SQLite storage format) or None."""
    seconds = values.astype("datetime64[s]")
    text = seconds.astype("U19")
    # Swap the ISO 'T' for a space in place: the strings are fixed-width UTF-32.
    text.view(np.uint32).reshape(len(text), 19)[:, 10] = ord(" ")
    micro = (values - seconds).astype(np.int64)
    fraction = np.strings.zfill(np.where(np.isnat(values), 0, micro).astype("U6"), 6)
    out = np.strings.add(np.strings.add(text, "."), fraction).astype(object)
    out[np.isnat(values)] = None
    return out


def iso_dates(values: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD`` strings or None."""
    out = values.astype("datetime64[D]").astype("U10").astype(object)
    out[np.isnat(values)] = None
    return out


def python_dates(values: np.ndarray) -> list:
    return values.astype("datetime64[D]").tolist()


def json_objects(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    """One JSON object per row of the numeric ``names`` columns, missing cells left out.

    Survey scores take few distinct values, so each row's combination of values is coded
    as one integer and each distinct combination is written once, instead of one
    ``json.dumps`` per row. Finite floats' ``repr`` is valid JSON.
    """
    count = len(frame)
    if not names:
        return np.full(count, "{}", dtype=object)
    combination = np.zeros(count, dtype=np.int64)
    radices, distinct = [], []
    for name in names:
        codes, uniques = pd.factorize(frame[name].to_numpy(dtype=np.float64))
        radix = len(uniques) + 1  # digit 0 = missing
        if radices and np.prod(radices, dtype=np.float64) * radix > 2**62:
            return _json_objects_row_by_row(frame, names)
        combination = combination * radix + (codes + 1)
        radices.append(radix)
        distinct.append(uniques.tolist())
    codes, combinations = pd.factorize(combination)
    texts = []
    for value in combinations.tolist():
        digits = []
        for radix in reversed(radices):
            value, digit = divmod(value, radix)
            digits.append(digit)
        parts = [
            f'"{name}": {values[digit - 1]!r}'
            for name, values, digit in zip(names, distinct, reversed(digits), strict=True)
            if digit
        ]
        texts.append("{" + ", ".join(parts) + "}")
    return np.array(texts, dtype=object)[codes]


def _json_objects_row_by_row(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    columns = [frame[name].to_numpy(dtype=np.float64).tolist() for name in names]
    texts = [
        "{"
        + ", ".join(
            f'"{name}": {value!r}'
            for name, value in zip(names, values, strict=True)
            if value == value  # NaN is missing
        )
        + "}"
        for values in zip(*columns, strict=True)
    ]
    return np.array(texts, dtype=object)
