"""What a write changed, as typed kinds: the GUI refreshes the screens that show them.

Modelled on Anki's `OpChanges`: a core operation that writes declares, where it is
defined, which kinds of data it changes (`@changes(Change.OBSERVATION, …)`), so a front
end learns what to refresh from the operation it ran (`changes_of(fn)`) instead of
guessing at each call site. An operation whose changes depend on its arguments (delete a
record of any type) leaves the caller to name them, with `Change` members too, never
bare strings: a misspelt kind is then a type error, not a screen that silently stays
stale.

The values are the strings the GUI used before, so a `Change` compares and hashes like
the string it names. No Qt here: the CLI and the tests use this module as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # not at run time: the app's first window must not load the data model
    from ohvault.model.records import RecordType

F = TypeVar("F", bound=Callable[..., Any])


class Change(StrEnum):
    """One kind of data a write can change."""

    # One per record type (the values are `RecordType`'s; `of_record` maps one to the other).
    OBSERVATION = "observation"
    DIAGNOSTIC_REPORT = "diagnostic_report"
    DOCUMENT = "document"
    MEDICATION = "medication"
    CONDITION = "condition"
    ALLERGY = "allergy"
    IMMUNIZATION = "immunization"
    NOTE = "note"
    # Not records.
    PROFILE = "profile"  # a profile added, edited or deleted (every screen shows one)
    SETTINGS = "settings"  # vault settings, keys and sync setup
    NAME_MAPPING = "name_mapping"  # a taught test name
    VAULT = "vault"  # the whole vault (restored, replaced): every screen is stale

    @classmethod
    def of_record(cls, record_type: RecordType) -> Change:
        """The change kind of a record type (a write to a record of that type)."""
        return cls(record_type.value)


# Every record type: what a sync or a conflict resolution may touch (tests/test_changes.py
# checks that these are exactly RecordType's values).
RECORD_CHANGES: frozenset[Change] = frozenset(
    {
        Change.OBSERVATION,
        Change.DIAGNOSTIC_REPORT,
        Change.DOCUMENT,
        Change.MEDICATION,
        Change.CONDITION,
        Change.ALLERGY,
        Change.IMMUNIZATION,
        Change.NOTE,
    }
)

OpChanges = frozenset[Change]
"""The kinds one operation changed (empty: nothing a screen shows)."""

# Each declared operation's changes, keyed by the function (a method's underlying function).
_DECLARED: dict[Callable[..., Any], OpChanges] = {}


def changes(*kinds: Change) -> Callable[[F], F]:
    """Declare on a core operation what it changes; the function itself is left as it is."""
    declared = frozenset(Change(kind) for kind in kinds)

    def declare(fn: F) -> F:
        _DECLARED[fn] = declared
        return fn

    return declare


def changes_of(fn: Callable[..., Any]) -> OpChanges:
    """What `fn` (a function or bound method declared with `@changes`) changes.

    An undeclared function is a programming error, raised at once, so that a write never
    goes unannounced because its declaration was forgotten.
    """
    key = getattr(fn, "__func__", fn)
    try:
        return _DECLARED[key]
    except (KeyError, TypeError):
        name = getattr(fn, "__qualname__", repr(fn))
        raise TypeError(f"{name} does not declare what it changes (@changes)") from None


def declared_operations() -> dict[Callable[..., Any], OpChanges]:
    """Every operation declared so far and its changes (for tests and documentation)."""
    return dict(_DECLARED)
