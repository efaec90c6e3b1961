"""Mapping record dataclasses to table rows and back, by field name and type."""

from __future__ import annotations

import dataclasses
import typing
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar, cast

T = TypeVar("T")


@cache
def field_types(cls: Any) -> dict[str, type]:
    hints = typing.get_type_hints(cls)
    out: dict[str, type] = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        out[f.name] = args[0] if args else hint
    return out


def columns(cls: type) -> list[str]:
    return list(field_types(cls))


def to_db(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def from_db(kind: type, value: Any) -> Any:
    if value is None:
        return None
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind is bool:
        return bool(value)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(value)
    return value


def row_values(obj: Any) -> list[Any]:
    return [to_db(getattr(obj, name)) for name in columns(type(obj))]


def from_row(cls: type[T], row: typing.Sequence[Any]) -> T:
    types = field_types(cast(Any, cls))
    kwargs = {name: from_db(kind, row[i]) for i, (name, kind) in enumerate(types.items())}
    return cls(**kwargs)


def quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)
