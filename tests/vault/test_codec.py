"""Records to rows and back: every field of every record type, None or set, survives."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ohvault.model import RECORD_CLASSES, Profile
from ohvault.storage.codec import columns, field_types, from_row, row_values

CLASSES = [Profile, *RECORD_CLASSES.values()]

TEXT = st.text(max_size=12)
WHEN = st.datetimes(
    min_value=datetime(1900, 1, 1), timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))])
)
CODINGS = st.lists(
    st.dictionaries(st.sampled_from(["system", "code", "display"]), TEXT), max_size=2
)


def _strategy(kind: type) -> st.SearchStrategy[Any]:
    if kind is datetime:
        return WHEN
    if kind is date:
        return st.dates()
    if kind is bool:
        return st.booleans()
    if kind is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind is int:
        return st.integers(min_value=-(2**62), max_value=2**62)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return st.sampled_from(list(kind))
    if kind is list:
        return CODINGS
    return TEXT


def _optional(cls: type, name: str) -> bool:
    hint = typing.get_type_hints(cls)[name]
    if typing.get_origin(hint) not in (typing.Union, types.UnionType):
        return False
    return type(None) in typing.get_args(hint)


def _records(cls: type) -> st.SearchStrategy[Any]:
    kinds = field_types(cls)
    fields = {}
    for f in dataclasses.fields(cls):
        value = _strategy(kinds[f.name])
        fields[f.name] = st.none() | value if _optional(cls, f.name) else value
    return st.fixed_dictionaries(fields).map(lambda kw: cls(**kw))


def _expected_row(obj: Any) -> list[Any]:
    """The rule, written plainly: dates as ISO text, enums as their value, lists as JSON."""
    out: list[Any] = []
    for name in columns(type(obj)):
        value = getattr(obj, name)
        if isinstance(value, date):  # datetime too
            value = value.isoformat()
        elif isinstance(value, Enum):
            value = value.value
        elif isinstance(value, list):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        out.append(value)
    return out


@settings(max_examples=200, deadline=None)
@given(obj=st.one_of([_records(cls) for cls in CLASSES]))
def test_a_record_becomes_its_row_and_comes_back(obj: Any) -> None:
    cls = type(obj)
    row = row_values(obj)
    assert len(row) == len(columns(cls))
    assert list(row) == _expected_row(obj)
    assert from_row(cls, row) == obj
