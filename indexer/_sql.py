"""Bulk writes, by dialect: the store's hot path.

SQLite: one prepared `INSERT … ON CONFLICT DO NOTHING` run by the driver's executemany over plain
tuples (SQLAlchemy's per-row parameter processing costs more than SQLite's insert itself).
PostgreSQL: small batches the same way; large ones `COPY` into a session-local staging table, then
one `INSERT … SELECT … ON CONFLICT DO NOTHING` (COPY alone cannot skip rows already stored).
"""

from __future__ import annotations

import functools
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table

_COPY_MIN_ROWS = 2000


@functools.lru_cache(maxsize=512)
def _insert_sql(dialect: str, table: str, columns: tuple[str, ...]) -> str:
    mark = "?" if dialect == "sqlite" else "%s"
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))}) "
        "ON CONFLICT DO NOTHING"
    )


def _tuples(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    get = itemgetter(*columns)
    if len(columns) == 1:
        return [(get(r),) for r in rows]
    return [get(r) for r in rows]


def _as_text(rows: list[tuple[Any, ...]], positions: list[int]) -> list[tuple[Any, ...]]:
    out = []
    for row in rows:
        items = list(row)
        for i in positions:
            items[i] = str(items[i])
        out.append(tuple(items))
    return out


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Inserts rows (dicts with every column of `table`), skipping any whose primary key is stored."""
    if not rows:
        return
    columns = tuple(c.name for c in table.columns)
    dialect = conn.dialect.name
    values = _tuples(rows, columns)
    # SQLite keeps full-range uints as decimal text (models.BigUint); this path skips SQLAlchemy's binding
    wide = [i for i, c in enumerate(table.columns) if type(c.type).__name__ == "BigUint"]
    if wide and dialect == "sqlite":
        values = _as_text(values, wide)
    if dialect == "postgresql" and len(rows) >= _COPY_MIN_ROWS:
        _copy_insert(conn, table.name, columns, values)
        return
    conn.exec_driver_sql(_insert_sql(dialect, table.name, columns), values)


def _copy_insert(
    conn: Connection, table: str, columns: tuple[str, ...], values: list[tuple[Any, ...]]
) -> None:
    stage = f"_stage_{table}"
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cur:
        # one staging table per session; ON COMMIT DELETE ROWS empties it even if we fail half-way
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        names = ", ".join(columns)
        with cur.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
        cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} ON CONFLICT DO NOTHING")
        cur.execute(f"TRUNCATE {stage}")


def upsert_add(
    conn: Connection, table: Table, rows: list[dict[str, Any]], keys: list[str], column: str
) -> None:
    """Inserts rows, or adds their `column` to the stored row's (balances by net transfer)."""
    if not rows:
        return
    columns = tuple(c.name for c in table.columns)
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {column} = {table.name}.{column} + excluded.{column}"
    )
    conn.exec_driver_sql(sql, _tuples(rows, columns))
