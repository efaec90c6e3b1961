"""What one vault step of a sync costs in hand-off: sync lane -> vault worker -> back.

    python -m benchmarks.handoff_bench [--steps 3000]

The sync lane runs every database step as a job on the vault worker (`Executor.call`)
and waits for it; this measures that round trip with empty steps, so it is the price
of keeping one owner of the connection, paid once per pulled bundle or outgoing batch.
Offscreen; no vault is opened.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time


def measure(steps: int) -> list[float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QTimer

    from ohvault.gui.tasks import Executor

    app = QCoreApplication.instance() or QCoreApplication([])
    executor = Executor()
    times: list[float] = []
    finished = threading.Event()

    def lane() -> None:
        for _ in range(steps):
            started = time.perf_counter()
            executor.call(lambda ctx: None, epoch=executor.epoch, should_cancel=lambda: False)
            times.append(time.perf_counter() - started)
        finished.set()

    poll = QTimer()
    poll.timeout.connect(lambda: finished.is_set() and not executor.busy and app.quit())
    poll.start(20)
    threading.Thread(target=lane, daemon=True).start()
    app.exec()
    executor.wait_for_done()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args()
    times = sorted(measure(args.steps))
    p95 = times[int(len(times) * 0.95)]
    print(
        f"{args.steps} hand-offs: median {statistics.median(times) * 1e3:.3f} ms, "
        f"p95 {p95 * 1e3:.3f} ms, total {sum(times):.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
