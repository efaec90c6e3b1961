"""Render the app icon (resources/icons/ohvault.svg) into the sizes desktops expect.

Writes packaging/icons/hicolor/<N>x<N>/apps/ohvault.png for the freedesktop icon theme,
the scalable SVG beside them, and ohvault.ico / ohvault.icns for the Windows and macOS
builds. Run `python packaging/make_icons.py` from the repository root after changing the SVG. The output is committed,
so packaging needs no Qt at build time; tests/hardening checks it is current.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "resources" / "icons" / "ohvault.svg"
OUT = ROOT / "packaging" / "icons"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def render(size: int) -> object:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise SystemExit(f"not a valid SVG: {SOURCE}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    for size in SIZES:
        target = OUT / "hicolor" / f"{size}x{size}" / "apps" / "ohvault.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not render(size).save(str(target), "PNG"):  # type: ignore[attr-defined]
            raise SystemExit(f"could not write {target}")
    scalable = OUT / "hicolor" / "scalable" / "apps" / "ohvault.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SOURCE, scalable)
    # Windows wants one .ico holding 256 px; macOS an .icns holding 512 px (Qt picks the sizes).
    render(256).save(str(OUT / "ohvault.ico"), "ICO")  # type: ignore[attr-defined]
    render(512).save(str(OUT / "ohvault.icns"), "ICNS")  # type: ignore[attr-defined]
    print(f"wrote {len(SIZES)} PNG sizes, SVG, .ico and .icns under {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
