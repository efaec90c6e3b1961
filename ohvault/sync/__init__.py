"""Optional end-to-end encrypted sync between devices through a server that cannot read.

The API the GUI and CLI use is `SyncClient` (see client.py): `enable`, `join`,
`sync`, `status`, `conflicts`, `resolve`, `pairing_code`, `disable`. Beneath it:
`api.py` (the server's REST API, typed), `engine.py` (pull, push, snapshots as
network calls between vault steps), `keyexchange.py` (pairing and recovery wraps),
`local.py` (the vault side), `transport.py` (HTTP, tokens, retries). Nothing here
imports Qt; the GUI runs `sync()` on a thread that only talks to the network and
hands each vault step to its vault worker.
"""

from ohvault.sync.client import SyncClient, SyncProgress, SyncReport, SyncStatus
from ohvault.sync.errors import (
    SyncAuthRequired,
    SyncError,
    SyncInternalError,
    SyncNotEnabled,
    SyncOffline,
    SyncRefused,
    SyncVerifyFailed,
)
from ohvault.sync.local import ConflictInfo

__all__ = [
    "ConflictInfo",
    "SyncAuthRequired",
    "SyncClient",
    "SyncError",
    "SyncInternalError",
    "SyncNotEnabled",
    "SyncOffline",
    "SyncProgress",
    "SyncRefused",
    "SyncReport",
    "SyncStatus",
    "SyncVerifyFailed",
]
