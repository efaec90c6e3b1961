#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (a real Secret Service, a
# session bus, a virtual screen, the reference `age` tool, PostgreSQL for the sync
# server tests). Runs only as root on
# a Debian-like system and only when something is missing, so it is cheap to call.
set -euo pipefail
PACKAGES=(gnome-keyring dbus dbus-daemon xvfb age libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 desktop-file-utils appstream fonts-dejavu-core postgresql)
missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them with your package manager (e.g. sudo apt-get install ${missing[*]})." >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
