"""`python -m ohvault.server`: the same as `ohvault serve`."""

from __future__ import annotations

import sys

from ohvault.server.run import main

if __name__ == "__main__":
    sys.exit(main())
