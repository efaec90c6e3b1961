#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with a real gnome-keyring Secret
# Service, unlocked with a throwaway password, under a fresh HOME so that the
# developer's own keychain is never touched.
set -euo pipefail
export HOME="$(mktemp -d -t ohvault-home-XXXXXX)"
export XDG_RUNTIME_DIR="$HOME/run" XDG_DATA_HOME="$HOME/.local/share" XDG_CONFIG_HOME="$HOME/.config" XDG_CACHE_HOME="$HOME/.cache"
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
trap 'rm -rf "$HOME"' EXIT
if ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null; then
    echo "dbus-run-session or gnome-keyring-daemon missing: run 'make system-deps'" >&2
    exit 1
fi
exec dbus-run-session -- bash -c '
    printf "ohvault-test" | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
    # The daemon takes the Secret Service name on the bus a moment after it returns. A call
    # made before that makes D-Bus start a second daemon, one without the unlocked login
    # keyring, which then asks for a password on a screen that does not exist: every
    # keychain test fails. So wait (up to 20 s on a loaded machine) until the name is owned.
    for _ in $(seq 1 200); do
        if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
            org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null \
            | grep -q "boolean true"; then
            break
        fi
        sleep 0.1
    done
    export OHVAULT_TEST_KEYCHAIN=1
    exec "$@"
' bash "$@"
