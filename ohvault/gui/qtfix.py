"""Work around PySide6 6.12.0, whose calls drop references to True and None they do not own.

There `SignalInstance.emit()` returns True without owning it, so each emit to a connected
signal takes one reference from the interpreter's True. Every job the app runs emits
several signals; after a few thousand (sys.getrefcount(True) is about 3,800 once the app
is imported) True's count reaches zero and CPython aborts with "bool_dealloc: deallocating
True or False". pyproject.toml excludes 6.12.0; this protects an install that has it
anyway (a distribution's package). A probe at import measures the leak; only then is emit
wrapped to give the reference back. A PySide6 without the bug is left untouched.

The same release returns None from every void method (`resize`, `setText`,
`processEvents`...) without owning it, so each such call takes a reference from None; on
CPython 3.11 the app aborts with "none_dealloc" once None's count (a few thousand in a lean
process) runs out. Those calls are far too many to wrap, so when a probe sees the leak None
is given a reference count no session can use up, which is what CPython 3.12 does for
every interpreter (None is immortal there and the leak is harmless).
"""

from __future__ import annotations

import ctypes
import functools
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBE_EMITS = 8
_PROBE_CALLS = 8
# Added to None's reference count when void calls leak: 2**40 calls to use it up.
_NONE_PAD = 1 << 40


class _Probe(QObject):
    fired = Signal()


def emit_leaks_a_reference() -> bool:
    """Whether emitting a connected signal costs True a reference (no QApplication needed)."""
    probe = _Probe()
    probe.fired.connect(lambda: None)
    before = sys.getrefcount(True)
    for _ in range(_PROBE_EMITS):
        probe.fired.emit()
    leaked = sys.getrefcount(True) - before <= -_PROBE_EMITS
    if leaked:  # give back what the probe itself took
        for _ in range(_PROBE_EMITS):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return leaked


class _GivingBack:
    """`SignalInstance.emit`, giving back the reference the buggy emit takes from its result.

    A descriptor handing out a functools.partial, not a bound method: PySide takes a bound
    method of a SignalInstance for a signal-to-signal connection and fails on a Python one,
    while a partial connects like any callable (`a.connect(b.emit)` keeps working).
    """

    _ohvault_refcount_fix = True

    def __init__(self, original: Any) -> None:
        self._original = original

    def _emit(self, signal: SignalInstance, *args: Any) -> Any:
        result = self._original(signal, *args)
        # A reference emit did not own: take one so that dropping ours is even. (On a result
        # it did own, this keeps a bool singleton alive one count longer: harmless.)
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(result))
        return result

    def __get__(self, instance: SignalInstance | None, owner: type | None = None) -> Any:
        if instance is None:
            return self._emit
        return functools.partial(self._emit, instance)


def void_call_leaks_none() -> bool:
    """Whether a void PySide6 method costs None a reference (no QApplication needed)."""
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(_PROBE_CALLS):
        probe.setObjectName("probe")
    return sys.getrefcount(None) - before <= -_PROBE_CALLS


def protect_none() -> bool:
    """Pad None's reference count if void calls leak it (CPython before 3.12); True if padded."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False  # None is immortal from 3.12: the leak cannot reach zero
    if not void_call_leaks_none():
        return False
    # ob_refcnt is the first field of every CPython object; Py_IncRef 2**40 times would take
    # hours, so the count is raised in place (the GIL is held: nothing else changes it now).
    refcnt = ctypes.c_ssize_t.from_address(id(None))
    refcnt.value += _NONE_PAD
    return True


def install() -> bool:
    """Wrap SignalInstance.emit if this PySide6 needs it; True if it is wrapped. Idempotent."""
    if getattr(SignalInstance.__dict__.get("emit"), "_ohvault_refcount_fix", False):
        return True
    if not emit_leaks_a_reference():
        return False
    SignalInstance.emit = _GivingBack(SignalInstance.emit)  # type: ignore[method-assign,assignment]
    return True


install()
protect_none()
