#!/bin/sh
# Inside the sandbox the package's resources are installed under /app/share, not beside
# the Python package, so point ohvault at them before starting it.
export OHVAULT_RESOURCES="${OHVAULT_RESOURCES:-/app/share/ohvault/resources}"
exec /app/bin/ohvault-py "$@"
