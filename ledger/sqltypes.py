"""Column types shared by the outbox and the mirror."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Dialect, Numeric, Text
from sqlalchemy.types import TypeDecorator


class BigUint(TypeDecorator[int]):
    """An unsigned integer over its full range (up to uint256), lossless: NUMERIC(78,0) on PostgreSQL,
    decimal text on SQLite (whose NUMERIC affinity would turn big values into floats)."""

    impl = Numeric(78, 0)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(Text() if dialect.name == "sqlite" else Numeric(78, 0))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        return None if value is None else str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)
