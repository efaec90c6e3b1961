"""Help: the keyboard shortcut list and the About dialog."""

from __future__ import annotations

import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ohvault import __version__
from ohvault.gui import theme

LICENCES = [
    ("ohvault", "GPL-3.0-or-later"),
    ("Qt / PySide6", "LGPL-3.0"),
    ("SQLCipher (sqlcipher3)", "BSD-3-Clause / zlib"),
    ("cryptography", "Apache-2.0 or BSD-3-Clause"),
    ("argon2-cffi", "MIT"),
    ("keyring", "MIT"),
    ("matplotlib", "Matplotlib licence (PSF-based)"),
    ("pdfplumber", "MIT"),
    ("pypdfium2 / PDFium", "Apache-2.0 or BSD-3-Clause"),
    ("fpdf2", "LGPL-3.0"),
    ("platformdirs", "MIT"),
]


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None, shortcuts: list[tuple[str, str]]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setAccessibleName("Keyboard shortcuts")
        self.resize(420, 520)
        table = QTableWidget(len(shortcuts), 2)
        table.setAccessibleName("Shortcut list")
        table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for row, (action, keys) in enumerate(shortcuts):
            table.setItem(row, 0, QTableWidgetItem(action))
            table.setItem(row, 1, QTableWidgetItem(keys))
        self.table = table
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addWidget(table)
        col.addWidget(buttons)


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About ohvault")
        self.setAccessibleName("About ohvault")
        col = QVBoxLayout(self)
        logo = QLabel()
        logo.setPixmap(theme.icon("ohvault", "#1f8a7d").pixmap(64, 64))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(logo)
        title = QLabel(f"<h2>ohvault {__version__}</h2>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(title)
        text = QLabel(
            "A local-first, encrypted personal health vault.<br>"
            f"Python {platform.python_version()} · Qt {qVersion()} · PySide6 {pyside_version}"
        )
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(text)
        rows = "".join(
            f"<tr><td>{name}</td><td>&nbsp;&nbsp;{lic}</td></tr>" for name, lic in LICENCES
        )
        licences = QLabel(f"<b>Licences</b><table>{rows}</table>")
        licences.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        col.addWidget(licences)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        col.addWidget(buttons)
