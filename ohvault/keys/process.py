"""Keep secrets out of core dumps: no core file, and no ptrace by other users' tools.

A crashing process would otherwise write its memory (decrypted records, the raw
data key) to wherever the system collects cores. Called once at start-up by the
CLI and the desktop app, before any key is loaded.
"""

from __future__ import annotations

import contextlib
import logging
import sys

log = logging.getLogger(__name__)

PR_SET_DUMPABLE = 4  # from <linux/prctl.h>
PR_GET_DUMPABLE = 3


def disable_core_dumps() -> dict[str, bool]:
    """Set RLIMIT_CORE to 0 and (Linux) PR_SET_DUMPABLE to 0; report what took effect.

    On macOS and the BSDs RLIMIT_CORE is the equivalent that exists (there is no
    prctl); on Windows neither exists and crash dumps are governed by Windows Error
    Reporting settings outside the process, so this is a no-op there.
    """
    done = {"rlimit_core": False, "not_dumpable": False}
    try:
        import resource
    except ImportError:  # Windows
        return done
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        done["rlimit_core"] = True
    if sys.platform == "linux":
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            # Not dumpable: no core even if a limit is raised later, /proc/PID/mem and ptrace
            # closed to other processes of the same user (only root can attach).
            done["not_dumpable"] = libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0
        except (OSError, AttributeError):
            pass
    if not all(done.values()):
        log.warning("core dumps could not be fully disabled: %s", done)
    return done
