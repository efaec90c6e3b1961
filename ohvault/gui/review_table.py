"""The review table both import reviews use: short columns whole, names share the rest.

At the default window size (1220×780) the names must not shrink to a sliver and the
flag must not slide off-screen: short columns (tick, value, unit, reference summary,
flag, date) get what their content needs; the name columns share what is left, down to
NAME_MIN, past which they elide (full text in the tooltip) and the table scrolls sideways.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from ohvault.gui.pdf_review import COL_NAME, COL_PRINTED, COL_REF, COL_UNIT, ReviewModel

FHIR_NAME_COLUMN = 2  # the FHIR review's Name column
REF_MAX = 130
UNIT_MAX = 100

NAME_MIN = 100  # the name columns never shrink below this; the table scrolls sideways instead


class ReviewTable(QTableView):
    """A review table whose columns fit its width: short columns whole, names share the rest."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setAccessibleName(name)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)  # full text in the tooltip
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        hh = self.horizontalHeader()
        hh.setMinimumSectionSize(28)
        hh.setStretchLastSection(False)
        hh.setHighlightSections(False)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.min_widths: dict[int, int] = {}  # columns holding widgets (Map to…)
        # Columns that elide past a width (multi-tier reference texts; the tooltip has them all).
        self.max_widths: dict[int, int] = {COL_REF: REF_MAX, COL_UNIT: UNIT_MAX}
        self.max_rows = 0  # > 0: no taller than this many rows (a short group stays short)

    def setModel(self, model: Any) -> None:
        super().setModel(model)
        model.modelReset.connect(self.fit_columns)
        self.fit_columns()

    def need(self, col: int) -> int:
        want = max(
            self.horizontalHeader().sectionSizeHint(col),
            self.sizeHintForColumn(col),
            self.min_widths.get(col, 0),
        )
        if isinstance(self.model(), ReviewModel) and col in self.max_widths:
            want = min(want, self.max_widths[col])
        return want + 6

    def fit_height(self) -> None:
        model = self.model()
        if not self.max_rows or model is None:
            return
        rows = max(1, min(model.rowCount(), self.max_rows))
        height = self.horizontalHeader().sizeHint().height() + 2 * self.frameWidth()
        height += sum(self.rowHeight(r) for r in range(rows))
        if self.horizontalScrollBar().isVisible():
            height += self.horizontalScrollBar().sizeHint().height()
        self.setMaximumHeight(height + 2)

    def fit_columns(self) -> None:
        model = self.model()
        if model is None:
            return
        hh = self.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        names = [c for c in (COL_PRINTED, COL_NAME) if c < model.columnCount()]
        if not isinstance(model, ReviewModel):
            names = [FHIR_NAME_COLUMN]
        fixed = [
            c for c in range(model.columnCount()) if c not in names and not self.isColumnHidden(c)
        ]
        used = 0
        for c in fixed:
            width = self.need(c)
            self.setColumnWidth(c, width)
            used += width
        free = self.viewport().width() - used
        for c in names:
            # Names share what is left; below NAME_MIN they elide and the table scrolls.
            want = self.need(c)
            share = free // len(names) if names else 0
            self.setColumnWidth(c, max(NAME_MIN, min(want, share) if share < want else share))
        self.fit_height()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.fit_columns()
