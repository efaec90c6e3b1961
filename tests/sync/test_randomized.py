"""Three devices, a seeded random schedule of everything that goes wrong, bounded in time.

Each device reaches the server through its own TCP relay (tests/sync/tcp_proxy.py) so that
a push can land while its answer is lost. Along the way: edits through the path the app
uses (read the record, change some fields, `update_fields` with what was on screen, as
gui/undo.py does; sometimes a sync runs while the "dialog" is open) and their undo, deletions, conflict
resolutions, lost answers, process deaths right after a push (the vault is closed and
reopened, so nothing in memory survives), log compaction, server restarts and clock jumps.
Then every device syncs with nothing going wrong, and the test asserts that all devices
hold the same rows and that no written value was lost: each is still the record's value,
kept as the other side of a conflict, or was knowingly replaced by someone who had it on
screen. The exact sequences of issue 13's two silent losses have their own
deterministic tests (test_rollback.py, tests/gui/test_edit_during_sync.py).

OHVAULT_RANDOM_SYNC_SEEDS=1,2,3,... and OHVAULT_RANDOM_SYNC_STEPS=500 explore further.
"""

from __future__ import annotations

import copy
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest

from ohvault.errors import RecordNotFound
from ohvault.keys.keychain import Keychain
from ohvault.model import MedicationStatement, RecordType
from ohvault.storage.repository import ConcurrentEdit
from ohvault.sync import SyncClient, SyncError
from ohvault.vault import Vault
from sync.conftest import new_username
from sync.devices import PASSWORD, Device, close_devices, new_device
from sync.server_proc import ServerProc
from sync.tcp_proxy import Proxy

FIELDS = ("dosage", "note")
SEEDS = [int(s) for s in os.environ.get("OHVAULT_RANDOM_SYNC_SEEDS", "13,2026").split(",")]
STEPS = int(os.environ.get("OHVAULT_RANDOM_SYNC_STEPS", "40"))
# A safety bound, not the schedule: a slow machine runs fewer steps rather than hanging.
SECONDS = float(os.environ.get("OHVAULT_RANDOM_SYNC_SECONDS", "20"))

Written = tuple[str, str, str | None]  # (record id, field, value)


def client_for(vault: Vault, attempts: int = 2) -> SyncClient:
    return SyncClient(vault, max_attempts=attempts, sleep=lambda _s: None)


class World:
    def __init__(
        self, root: Path, keychain: Keychain, server: ServerProc, rng: random.Random
    ) -> None:
        self.root, self.keychain, self.server, self.rng = root, keychain, server, rng
        self.proxies: list[Proxy] = []
        self.devices: list[Device] = []
        self.records: list[str] = []
        self.written: list[Written] = []
        self.superseded: set[Written] = set()
        self.counter = 0
        self.restarts = 0
        self.undoable: dict[str, tuple[MedicationStatement, MedicationStatement, set[str]]] = {}
        self.log: list[str] = []

    def setup(self) -> None:
        user = new_username()
        for i in range(3):
            proxy = Proxy(self.server.port)
            self.proxies.append(proxy)
            d = new_device(
                self.root, f"d{i}", self.keychain, profile="Pat Synthetic" if i == 0 else None
            )
            d.client = client_for(d.vault)
            if i == 0:
                d.client.enable(proxy.url, user, PASSWORD, register=True)
                d.client.sync()
                code = d.client.pairing_code
            else:
                d.client.join(proxy.url, user, PASSWORD, pairing_code=code())
                d.client.sync()
            self.devices.append(d)
        self.pid = self.devices[0].vault.repo.profiles()[0].id

    def value(self, field: str) -> str:
        self.counter += 1
        return f"{field[0]}{self.counter}"

    def row(self, d: Device, rid: str) -> dict[str, Any] | None:
        r = d.vault.db.execute(
            "SELECT dosage, note, deleted FROM medications WHERE id = ?", (rid,)
        ).fetchone()
        return None if r is None else {"dosage": r[0], "note": r[1], "deleted": r[2]}

    # --- steps -------------------------------------------------------------------------------

    def add(self, d: Device) -> None:
        dosage, note = self.value("dosage"), self.value("note")
        m = d.vault.repo.add(
            MedicationStatement(profile_id=self.pid, name="Med", dosage=dosage, note=note)
        )
        self.records.append(m.id)
        self.written += [(m.id, "dosage", dosage), (m.id, "note", note)]

    def edit(self, d: Device, *, sync_while_open: bool) -> None:
        rid = self.rng.choice(self.records)
        now = self.row(d, rid)
        if now is None or now["deleted"]:
            return
        before = d.vault.repo.get(MedicationStatement, self.pid, rid)  # the dialog opens
        fields = set(self.rng.sample(FIELDS, self.rng.randint(1, 2)))
        after = copy.copy(before)
        for f in fields:
            earlier = [v for r, g, v in self.written if r == rid and g == f]
            if earlier and self.rng.random() < 0.4:
                # A correction back to an earlier value: the case a stale base gets wrong.
                setattr(after, f, self.rng.choice(earlier))
            else:
                setattr(after, f, self.value(f))
        if sync_while_open:
            self.sync(d)
        try:
            d.vault.repo.update_fields(after, fields, expected=before)
        except (ConcurrentEdit, RecordNotFound):
            return  # changed or deleted meanwhile: the person is told; nothing was written
        for f in fields:
            self.superseded.add((rid, f, getattr(before, f)))
            self.written.append((rid, f, getattr(after, f)))
        self.undoable[d.name] = (before, after, fields)

    def undo(self, d: Device) -> None:
        """Edit → Undo, as gui/undo.py does it: the edited fields go back, nothing else."""
        last = self.undoable.pop(d.name, None)
        if last is None:
            return
        before, after, fields = last
        try:
            d.vault.repo.update_fields(copy.copy(before), fields, expected=after)
        except (ConcurrentEdit, RecordNotFound):
            return
        for f in fields:
            self.superseded.add((before.id, f, getattr(after, f)))
            self.written.append((before.id, f, getattr(before, f)))

    def delete(self, d: Device) -> None:
        rid = self.rng.choice(self.records)
        now = self.row(d, rid)
        if now is None or now["deleted"]:
            return
        d.vault.repo.delete(RecordType.MEDICATION, self.pid, rid)
        self.superseded |= {(rid, f, now[f]) for f in FIELDS}

    def resolve(self, d: Device) -> None:
        open_ = d.client.conflicts()
        if not open_:
            return
        c = self.rng.choice(open_)
        keep = self.rng.choice(["current", "other"])
        now = self.row(d, c.record_id)
        if keep == "other" and now is not None:
            self.superseded |= {(c.record_id, f, now[f]) for f in FIELDS if f in c.fields}
        d.client.resolve(c.id, keep)

    def sync(self, d: Device, *, snapshot: bool | None = False) -> None:
        try:
            d.client.sync(snapshot=snapshot)
        except SyncError as exc:
            # Only the faults this test injects may stop a sync; anything else is a bug.
            assert type(exc).__name__ == "SyncOffline", exc.message
            self.log.append(f"offline: {exc.message}")

    def lost_answer_then_death(self, i: int) -> None:
        """The push lands, the answer is lost, the process dies: a fresh process resumes."""
        d = self.devices[i]
        self.proxies[i].drop_next_push_response = True
        d.client = client_for(d.vault, attempts=1)
        self.sync(d)
        self.proxies[i].drop_next_push_response = False
        self.kill(i)

    def kill(self, i: int) -> None:
        d = self.devices[i]
        home = d.vault.files.home
        d.vault.lock()
        d.vault = Vault.open(home, keychain=self.keychain)
        d.client = client_for(d.vault)

    def restart_server(self) -> None:
        # A crash (SIGKILL), not a polite stop: in-flight requests die with it. Each restart
        # costs about a second, so a run has at most one.
        if self.restarts >= 1:
            return
        self.restarts += 1
        self.server.kill()
        self.server.start()

    def clock_jump(self, d: Device) -> None:
        # The device's clock runs ahead by up to an hour (and then back: the HLC never goes back).
        d.vault.db.execute(
            "UPDATE sync_clock SET wall = wall + ? WHERE id = 1",
            (self.rng.randint(1, 3_600_000),),
        )

    def step(self) -> None:
        i = self.rng.randrange(3)
        d = self.devices[i]
        roll = self.rng.random()
        if roll < 0.12 or not self.records:
            self.add(d)
        elif roll < 0.36:
            self.edit(d, sync_while_open=self.rng.random() < 0.3)
        elif roll < 0.40:
            self.undo(d)
        elif roll < 0.46:
            self.delete(d)
        elif roll < 0.52:
            self.resolve(d)
        elif roll < 0.80:
            self.sync(d)
        elif roll < 0.86:
            self.sync(d, snapshot=True)
        elif roll < 0.92:
            self.lost_answer_then_death(i)
        elif roll < 0.95:
            self.kill(i)
        elif roll < 0.97:
            self.clock_jump(d)
        else:
            self.restart_server()

    # --- the end ------------------------------------------------------------------------------

    def converge_and_check(self) -> None:
        for d in self.devices:
            d.client = client_for(d.vault, attempts=5)
        for _ in range(3):
            for d in self.devices:
                d.client.sync(snapshot=False)
        states = [d.state() for d in self.devices]
        for i, s in enumerate(states[1:], 1):
            diff = {t: (states[0][t], s[t]) for t in s if s[t] != states[0][t]}
            assert not diff, f"device {i} differs from device 0: {diff}"
        for d in self.devices:
            assert d.client.status().pending_changes == 0
        d0 = self.devices[0]
        kept: set[Written] = set()
        for rid in self.records:
            now = self.row(d0, rid)
            assert now is not None, "a record vanished"
            kept |= {(rid, f, now[f]) for f in FIELDS}
        for c in d0.client.conflicts(include_resolved=True):
            kept |= {(c.record_id, f, c.other.get(f)) for f in FIELDS}
        lost = [w for w in self.written if w not in kept and w not in self.superseded]
        assert lost == [], f"lost values: {lost}"


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_three_devices_random_faults_converge_and_lose_nothing(
    seed: int, tmp_path: Path, keychain: Keychain, fresh_server: ServerProc
) -> None:
    fresh_server.start()
    world = World(tmp_path, keychain, fresh_server, random.Random(seed))
    try:
        world.setup()
        deadline = time.monotonic() + SECONDS
        steps = 0
        while steps < STEPS and time.monotonic() < deadline:
            world.step()
            steps += 1
        world.converge_and_check()
        assert steps >= min(STEPS, 20), "the schedule ran too few steps to mean anything"
    finally:
        for p in world.proxies:
            p.close()
        close_devices(*world.devices, keychain=keychain)
