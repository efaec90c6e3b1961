"""`make screenshots` pins ohvault's clock, so the committed pictures do not change with the day."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import datetime as dt
from ohvault.gui.screenshots import pin_clock
pin_clock(2026, 11, 2, 9, 30)
from ohvault import demo
from ohvault.model import records
from ohvault.gui.dates import qtoday
today = demo.date.today()
first, second = records.utcnow(), records.utcnow()
assert today == dt.date(2026, 11, 2), today
assert type(today) is dt.date  # a real date, which Qt accepts
assert first.isoformat().startswith("2026-11-02T09:30:00") and first < second
assert isinstance(dt.date(2020, 1, 1), demo.date) and isinstance(first, records.datetime)
assert records.date(2024, 6, 1) == dt.date(2024, 6, 1)
assert qtoday().toString("yyyy-MM-dd") == "2026-11-02"
assert dt.date.today() != today or dt.date.today() == dt.date(2026, 11, 2)  # the module is untouched
print("ok")
"""


def test_pinned_clock_gives_fixed_dates_that_stay_real_dates() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")
