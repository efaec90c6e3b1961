"""The desktop entry, AppStream metainfo, icons and Flatpak manifest are valid and agree."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ohvault import __version__

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "packaging"
DESKTOP = PKG / "linux" / "ohvault.desktop"
METAINFO = PKG / "linux" / "org.ohvault.Vault.metainfo.xml"
FLATPAK = PKG / "flatpak" / "org.ohvault.Vault.json"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def _metainfo() -> ET.Element:
    return ET.parse(METAINFO).getroot()  # noqa: S314 - our own file from the repository


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: run `make system-deps`")
    return path


def _desktop_entry() -> dict[str, str]:
    entry: dict[str, str] = {}
    for line in DESKTOP.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            entry[key] = value
    return entry


def test_desktop_file_validates() -> None:
    result = subprocess.run(
        [_tool("desktop-file-validate"), str(DESKTOP)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error:" not in result.stdout


def test_desktop_file_starts_the_app_without_arguments() -> None:
    # Arguments are CLI subcommands: a %f/%F field code would turn a double-clicked file into
    # an unknown command instead of opening the app.
    entry = _desktop_entry()
    assert entry["Exec"] == "ohvault"
    assert entry["Icon"] == "ohvault"
    assert entry["StartupWMClass"] == "ohvault"


def test_metainfo_validates_and_names_the_current_version() -> None:
    result = subprocess.run(
        [_tool("appstreamcli"), "validate", "--no-net", str(METAINFO)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    root = _metainfo()
    assert root.findtext("id") == "org.ohvault.Vault"
    assert root.find("launchable").text == DESKTOP.name  # type: ignore[union-attr]
    releases = [r.get("version") for r in root.iter("release")]
    assert releases[0] == __version__, "add a <release> for the new version to the metainfo"
    assert root.find("provides/binary").text == "ohvault"  # type: ignore[union-attr]


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_icons_exist_in_every_size_and_are_rendered_from_the_app_svg() -> None:
    for size in SIZES:
        png = PKG / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "ohvault.png"
        assert _png_size(png) == (size, size)
    scalable = PKG / "icons" / "hicolor" / "scalable" / "apps" / "ohvault.svg"
    source = ROOT / "resources" / "icons" / "ohvault.svg"
    assert scalable.read_bytes() == source.read_bytes(), (
        "the app icon changed: run `python packaging/make_icons.py`"
    )
    assert (PKG / "icons" / "ohvault.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"
    assert (PKG / "icons" / "ohvault.icns").read_bytes()[:4] == b"icns"


def test_flatpak_manifest_matches_the_metainfo_and_installs_what_exists() -> None:
    manifest = json.loads(FLATPAK.read_text(encoding="utf-8"))
    assert manifest["app-id"] == _metainfo().findtext("id")
    assert manifest["command"] == "ohvault"
    assert manifest["rename-desktop-file"] == DESKTOP.name
    # The keychain is the Secret Service on the session bus: without this the sandboxed app
    # would silently fall back to passphrase-only mode.
    assert "--talk-name=org.freedesktop.secrets" in manifest["finish-args"]
    assert not any(a.startswith("--filesystem=home") for a in manifest["finish-args"])
    commands = " ".join(manifest["modules"][-1]["build-commands"])
    for rel in re.findall(r"(?:packaging|resources)/[\w./-]+", commands):
        rel = rel.replace("${s}x${s}", "48x48")
        assert (ROOT / rel).exists(), f"the Flatpak manifest installs a missing file: {rel}"


def test_every_package_is_listed_for_setuptools() -> None:
    """pyproject.toml lists packages explicitly (resources/ ships as ohvault.resources)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(d.relative_to(ROOT).parts)
        for d in (ROOT / "ohvault").rglob("*")
        if d.is_dir() and any(d.glob("*.py"))
    } | {"ohvault"}
    data = {
        "ohvault.resources." + d.name
        for d in (ROOT / "resources").iterdir()
        if d.is_dir() and not d.name.startswith("__")
    } | {"ohvault.resources"}
    assert listed == on_disk | data


def test_a_wheel_finds_its_catalog_from_any_directory(tmp_path: Path) -> None:
    """`pip install .` (not editable): the catalog and icons come as package data, so a lab
    report parses with the installed package from a directory far from the checkout."""
    import sys
    import zipfile

    from tests.hardening.fuzz.make_seeds import lab_pdf

    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = wheels.glob("ohvault-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    assert (site / "ohvault" / "resources" / "catalog" / "analytes.json").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    report = elsewhere / "report.pdf"
    report.write_bytes(lab_pdf([("Sodium", "140", "mmol/L", "136 - 145")]))
    script = (
        "import json, sys, ohvault; from ohvault.cli.main import main;"
        "print(ohvault.__file__, file=sys.stderr);"
        "sys.exit(main(['import-pdf', '--dry-run', '--json', 'report.pdf']))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=elsewhere, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith(str(site / "ohvault")), "the wheel's package was not the one used"
    [parsed] = (
        json.loads(done.stdout)
        if done.stdout.lstrip().startswith("[")
        else [json.loads(done.stdout)]
    )
    assert [r["name"] for r in parsed["results"]] == ["Sodium"]
