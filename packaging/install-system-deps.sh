#!/usr/bin/env bash
# Installs the Debian packages ohvault needs. Runs only as root on a Debian-like system
# and only when something is missing, so it is cheap to call; otherwise it names what is
# missing and how to install it.
#
#   install-system-deps.sh            what the test suite needs (make test)
#   install-system-deps.sh --runtime  what the desktop app needs (make run)
set -euo pipefail
# The desktop app: an OS keychain (Secret Service), a session bus, Qt's X11 libraries, fonts.
RUNTIME=(gnome-keyring dbus dbus-daemon libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3
    fonts-dejavu-core libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
    libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0)
# The tests besides: a virtual screen, dbus-send (tests/run-with-keyring.sh waits for the
# keychain with it), the reference `age` tool, desktop-file and AppStream validators,
# PostgreSQL for the sync server's tests, Tesseract for reading scanned reports.
TESTS=(xvfb dbus-bin age desktop-file-utils appstream postgresql tesseract-ocr tesseract-ocr-eng)

PACKAGES=("${RUNTIME[@]}")
if [ "${1:-}" != "--runtime" ]; then
    PACKAGES+=("${TESTS[@]}")
fi
if ! command -v dpkg-query >/dev/null; then
    echo "Not a Debian-like system: install the equivalents of: ${PACKAGES[*]}" >&2
    exit 0
fi
missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
