"""Three-way merge of one record: the last synced version, ours, theirs.

Fields changed on one side only are taken from that side, so edits to different
fields of the same record both survive. A field both sides changed to different
values is a conflict: the version with the later hybrid-logical-clock stamp wins
those fields, and the losing version is kept whole so the user can pick it.
Deleting a record on one side while the other edits it is a conflict too: a
tombstone must not silently swallow an edit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# Bookkeeping that changes with every edit; never a conflict by itself.
IGNORED = frozenset({"updated_at"})


def same(a: Any, b: Any) -> bool:
    # SQLite's json_object prints REALs with 15 significant digits.
    if isinstance(a, float) and isinstance(b, int | float) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-13, abs_tol=0.0)
    if isinstance(b, float) and isinstance(a, int) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-13, abs_tol=0.0)
    return bool(a == b)


@dataclass
class MergeResult:
    merged: dict[str, Any]
    conflict_fields: list[str] = field(default_factory=list)
    local_wins: bool = True  # on the conflicting fields
    local_pending: bool = True  # the merged row differs from theirs and must be pushed


def changed(base: dict[str, Any] | None, row: dict[str, Any]) -> set[str]:
    if base is None:
        return {k for k in row if k not in IGNORED and k != "id"}
    return {k for k, v in row.items() if k not in IGNORED and not same(base.get(k), v)}


def three_way(
    base: dict[str, Any] | None,
    ours: dict[str, Any],
    theirs: dict[str, Any],
    *,
    our_hlc: str,
    their_hlc: str,
) -> MergeResult:
    ours_changed = changed(base, ours)
    theirs_changed = changed(base, theirs)
    overlap = {k for k in ours_changed & theirs_changed if not same(ours.get(k), theirs.get(k))}
    # Delete against edit: the edit's fields and the tombstone collide.
    if "deleted" in ours_changed ^ theirs_changed:
        if "deleted" in ours_changed:
            deleter, edits = ours, theirs_changed - {"deleted"}
        else:
            deleter, edits = theirs, ours_changed - {"deleted"}
        if deleter.get("deleted") and edits:
            overlap |= edits | {"deleted"}
    local_wins = our_hlc > their_hlc
    merged = dict(theirs)
    for k in ours_changed - overlap:
        merged[k] = ours[k]
    if local_wins:
        for k in overlap:
            merged[k] = ours[k]
    for k in IGNORED:
        if k in ours or k in theirs:
            merged[k] = max(str(ours.get(k) or ""), str(theirs.get(k) or "")) or None
    local_pending = any(not same(merged.get(k), theirs.get(k)) for k in merged if k not in IGNORED)
    return MergeResult(merged, sorted(overlap), local_wins, local_pending)
