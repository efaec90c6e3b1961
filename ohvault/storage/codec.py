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
def _codec(
    cls: Any,
) -> tuple[attrgetter[Any], list[str], list[tuple[int, Converter]], list[tuple[int, Converter]]]:
    """Per class, once: a getter for all fields and the positions that need converting.

    Bulk imports write 100,000 rows at a time; converting only the fields that
    need it keeps the Python side of an insert small.
    """
    types = field_types(cls)
    names = list(types)
    encoders = [(i, enc) for i, kind in enumerate(types.values()) if (enc := _encoder_for(kind))]
    decoders = [(i, dec) for i, kind in enumerate(types.values()) if (dec := _decoder_for(kind))]
    return attrgetter(*names), names, encoders, decoders


def row_values(obj: Any) -> list[Any]:
    getter, _names, encoders, _decoders = _codec(cast(Any, type(obj)))
    values = list(getter(obj))
    for i, encode in encoders:
        if values[i] is not None:
            values[i] = encode(values[i])
    return values


def from_row(cls: type[T], row: typing.Sequence[Any]) -> T:
    _getter, names, _encoders, decoders = _codec(cast(Any, cls))
    values = list(row[: len(names)])
    for i, decode in decoders:
        if values[i] is not None:
            values[i] = decode(values[i])
    return cls(**dict(zip(names, values, strict=True)))


def quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)
