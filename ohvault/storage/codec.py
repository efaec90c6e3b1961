"""Mapping record dataclasses to table rows and back, by field name and type."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from functools import cache
from operator import attrgetter
from typing import Any, TypeVar, cast

T = TypeVar("T")


@cache
def field_types(cls: Any) -> dict[str, type]:
    hints = typing.get_type_hints(cls)
    out: dict[str, type] = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if typing.get_origin(hint) in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            hint = args[0]
        # list[...] and dict[...] fields are stored as JSON text.
        out[f.name] = typing.get_origin(hint) or hint
    return out


def columns(cls: type) -> list[str]:
    return list(field_types(cls))


Converter = Callable[[Any], Any]


def _encoder_for(kind: type) -> Converter | None:
    # Unbound C methods, not lambdas: a bulk import calls these 100,000s of times.
    if kind is datetime:
        return datetime.isoformat
    if kind is date:
        return date.isoformat
    if kind is bool:
        return None  # sqlite binds bool as the int it is
    if isinstance(kind, type) and issubclass(kind, Enum):
        if issubclass(kind, (str, int)):
            return None  # StrEnum / IntEnum members bind as their str / int value
        return attrgetter("value")
    if kind is list or kind is dict:
        return _json_text
    return None


_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


def _json_text(value: Any) -> str:
    # Most rows carry empty codings/components: skip the encoder for those (bulk imports).
    if not value:
        return "[]" if isinstance(value, list) else "{}"
    return _JSON.encode(value)


def _decoder_for(kind: type) -> Converter | None:
    if kind is datetime:
        return datetime.fromisoformat
    if kind is date:
        return date.fromisoformat
    if kind is bool:
        return bool
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind
    if kind is list or kind is dict:
        return json.loads
    return None


@cache
def _codec(cls: Any) -> tuple[list[str], list[tuple[int, Converter]]]:
    """Per class, once: the field names and the positions that need decoding."""
    types = field_types(cls)
    decoders = [(i, dec) for i, kind in enumerate(types.values()) if (dec := _decoder_for(kind))]
    return list(types), decoders


@cache
def _row_encoder(cls: Any) -> Callable[[Any], tuple[Any, ...]]:
    """Per class, once: a function turning a record into its row, generated from the fields.

    Bulk imports write 100,000 rows at a time, and a loop over the fields that need
    converting cost a third as much as the database's own work on each row. A function with
    one expression per column (the technique `dataclasses` itself uses for __init__) leaves
    only the conversions that cannot be avoided: isoformat and JSON for lists.
    """
    env: dict[str, Any] = {}
    parts = []
    for i, (name, kind) in enumerate(field_types(cls).items()):
        if not name.isidentifier():  # names come from our own dataclasses; keep exec honest
            raise ValueError(f"unexpected field name {name!r}")
        encode = _encoder_for(kind)
        if encode is None:
            parts.append(f"o.{name}")
        else:
            env[f"enc{i}"] = encode
            parts.append(f"(None if (v{i} := o.{name}) is None else enc{i}(v{i}))")
    source = f"def encode(o):\n    return ({', '.join(parts)},)\n"
    exec(source, env)  # noqa: S102 - source built above from field names checked as identifiers
    return cast(Callable[[Any], tuple[Any, ...]], env["encode"])


def row_encoder(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    """A function from a record of `cls` to its column values, in `columns` order."""
    return _row_encoder(cast(Any, cls))


def row_values(obj: Any) -> tuple[Any, ...]:
    """The record's column values, in `columns` order, as SQLite binds them."""
    return _row_encoder(cast(Any, type(obj)))(obj)


def from_row(cls: type[T], row: typing.Sequence[Any]) -> T:
    names, decoders = _codec(cast(Any, cls))
    values = list(row[: len(names)])
    for i, decode in decoders:
        if values[i] is not None:
            values[i] = decode(values[i])
    return cls(**dict(zip(names, values, strict=True)))


def quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)
