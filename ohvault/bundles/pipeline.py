"""Bounded stages for bundle export and import, so reading, hashing, encrypting and writing overlap.

Each stage runs in its own thread and hands byte chunks to the next through a `Channel`,
which holds at most `limit` bytes in flight, so memory stays bounded however large the
bundle. The database is only ever touched by the thread that called export or import (the
vault's owner); the stages get and give bytes. SQLite, hashlib, the file calls and the age
layer's Rust and OpenSSL code release the GIL while they work, so on two cores the stages
really run side by side.

An error in any stage aborts both channels: a stage blocked on a full or empty channel
wakes up with `Aborted`, and the first real error is the one reported (`Pipeline.raise_first`).
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

Chunk = bytes | memoryview

# A few MiB per hop: the per-hop overhead (a wake-up, winning the GIL back) stays small, and
# the stages stay busy together. 8 MiB hops measured slower on a loaded 2-core machine
# (stages idle longer at each end); a bundle of any size is only a few chunks in memory.
CHUNK_BYTES = 2 << 20
CHANNEL_BYTES = 8 << 20


class Aborted(Exception):
    """Another stage failed or the export was cancelled; that stage's error is the one to report."""


class Channel:
    """A FIFO of chunks between two stages, bounded by the bytes it holds."""

    def __init__(self, limit: int = CHANNEL_BYTES) -> None:
        self._items: deque[Any] = deque()
        self._bytes = 0
        self._limit = limit
        self._cond = threading.Condition()
        self._aborted = False

    def put(self, item: Any, size: int) -> None:
        """Add `item` (counted as `size` bytes); waits while the channel is full."""
        with self._cond:
            # One item may overshoot the limit, so a chunk larger than it still passes.
            while self._bytes and self._bytes + size > self._limit and not self._aborted:
                self._cond.wait()
            if self._aborted:
                raise Aborted
            self._items.append((item, size))
            self._bytes += size
            self._cond.notify_all()

    def get(self) -> Any:
        """The next item; waits while the channel is empty."""
        with self._cond:
            while not self._items and not self._aborted:
                self._cond.wait()
            if self._aborted:
                raise Aborted
            item, size = self._items.popleft()
            self._bytes -= size
            self._cond.notify_all()
            return item

    def abort(self) -> None:
        with self._cond:
            self._aborted = True
            self._items.clear()
            self._cond.notify_all()


class Stage:
    """One thread of a pipeline; remembers what it raised."""

    def __init__(self, name: str, run: Callable[[], None], on_error: Callable[[], None]) -> None:
        self.error: BaseException | None = None
        self._run = run
        self._on_error = on_error
        self._thread = threading.Thread(target=self._main, name=f"ohvault-{name}", daemon=True)

    def _main(self) -> None:
        try:
            self._run()
        except BaseException as exc:
            self.error = exc
            self._on_error()

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()


class Pipeline:
    """Channels and stages that stop together."""

    def __init__(self) -> None:
        self.channels: list[Channel] = []
        self.stages: list[Stage] = []

    def channel(self, limit: int = CHANNEL_BYTES) -> Channel:
        ch = Channel(limit)
        self.channels.append(ch)
        return ch

    def stage(self, name: str, run: Callable[[], None]) -> Stage:
        st = Stage(name, run, self.abort)
        self.stages.append(st)
        st.start()
        return st

    def abort(self) -> None:
        for ch in self.channels:
            ch.abort()

    def failed(self) -> bool:
        return any(st.error is not None for st in self.stages)

    def wait(self, tick: Callable[[], None] | None = None) -> None:
        """Wait for every stage; `tick` runs on this thread meanwhile (progress, cancel)."""
        for st in self.stages:
            while not st.join(0.05):
                if tick is not None:
                    tick()

    def stop(self) -> None:
        """Abort and wait: after a failure on the calling thread, no stage is left running."""
        self.abort()
        self.wait()

    @contextlib.contextmanager
    def driving(self, tick: Callable[[], None] | None = None) -> Iterator[None]:
        """The calling thread's part of the pipeline: on leaving, every stage has finished
        and the first real stage error is raised (an `Aborted` on this thread is only the
        echo of one); on an error of this thread, the stages are stopped first."""
        try:
            yield
            self.wait(tick)
        except Aborted:
            self.stop()
            self.raise_first()
            raise
        except BaseException:
            self.stop()
            raise
        self.raise_first()

    def raise_first(self) -> None:
        """Re-raise the first stage error that is not just the echo of another's."""
        errors = [st.error for st in self.stages if st.error is not None]
        for error in errors:
            if not isinstance(error, Aborted):
                raise error
        if errors:
            raise errors[0]


class ChannelReader:
    """A file-like `read(n)` over a channel of chunks ending with `None` (for the age layer)."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._chunk: memoryview = memoryview(b"")
        self._pos = 0
        self._eof = False
        self.consumed = 0  # bytes handed out so far (read by another thread for progress)

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            parts = []
            while piece := self.read(CHUNK_BYTES):
                parts.append(piece)
            return b"".join(parts)
        while self._pos >= len(self._chunk):
            if self._eof:
                return b""
            item = self._channel.get()
            if item is None:
                self._eof = True
                return b""
            self._chunk, self._pos = memoryview(item), 0
        out = bytes(self._chunk[self._pos : self._pos + size])
        self._pos += len(out)
        self.consumed += len(out)
        return out

    def readinto(self, buf: bytearray | memoryview) -> int:
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)


class ChannelWriter:
    """A file-like `write` that batches small writes (age's 8 KiB and 64 KiB) into chunks of
    `batch` bytes on a channel: each hand-over wakes a thread, which then has to win the GIL
    back from a stage running age, so fewer and larger hand-overs go faster."""

    def __init__(self, channel: Channel, batch: int = CHUNK_BYTES) -> None:
        self._channel = channel
        self._parts: list[bytes] = []
        self._size = 0
        self._batch = batch

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._size += len(data)
        if self._size >= self._batch:
            self._send()
        return len(data)

    def flush(self) -> None:
        pass

    def _send(self) -> None:
        if self._parts:
            joined = self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
            self._parts, self._size = [], 0
            self._channel.put(joined, len(joined))

    def close(self, end: Any = None) -> None:
        """Send what is left, then `end` (None: the end of the stream)."""
        self._send()
        self._channel.put(end, 0)
