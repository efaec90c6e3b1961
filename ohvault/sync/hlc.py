"""Hybrid logical clock stamps: `<wall ms, 15 digits>-<counter, 10 digits>-<node>`.

Fixed widths make stamps compare correctly as strings, which is how the
triggers (migration 4) and SQL compare them. Local events are stamped by the
triggers; receiving a remote stamp moves the clock past it here, so that a
local edit made after a merge always sorts after what was merged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ohvault.storage.db import Database


@dataclass(frozen=True, order=True)
class Hlc:
    wall: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.wall:015d}-{self.counter:010d}-{self.node}"

    @classmethod
    def parse(cls, text: str) -> Hlc:
        wall, counter, node = text.split("-", 2)
        return cls(int(wall), int(counter), node)


def now_ms() -> int:
    return int(time.time() * 1000)


def tick(db: Database) -> str:
    """A stamp for an event the sync engine itself creates (a conflict record, a resolution)."""
    wall, counter, node = db.execute(
        "SELECT wall, counter, node FROM sync_clock WHERE id = 1"
    ).fetchone()
    now = now_ms()
    if now > wall:
        wall, counter = now, 0
    else:
        counter += 1
    db.execute("UPDATE sync_clock SET wall = ?, counter = ? WHERE id = 1", (wall, counter))
    return str(Hlc(wall, counter, node))


def receive(db: Database, remote: str) -> None:
    """HLC receive rule: the clock moves past the newest stamp seen from any device."""
    other = Hlc.parse(remote)
    wall, counter = db.execute("SELECT wall, counter FROM sync_clock WHERE id = 1").fetchone()
    now = now_ms()
    new_wall = max(wall, other.wall, now)
    if new_wall == wall == other.wall:
        new_counter = max(counter, other.counter) + 1
    elif new_wall == wall:
        new_counter = counter + 1
    elif new_wall == other.wall:
        new_counter = other.counter + 1
    else:
        new_counter = 0
    db.execute("UPDATE sync_clock SET wall = ?, counter = ? WHERE id = 1", (new_wall, new_counter))
