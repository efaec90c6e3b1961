"""PDF pages rendered from memory (pypdfium2 → QImage), never written to disk decrypted."""

from __future__ import annotations

import threading

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ohvault.errors import BadInput

# PDFium is not thread-safe; the GUI renders on its own thread, the worker may parse meanwhile.
_PDFIUM_LOCK = threading.Lock()


class PdfDocument:
    """An in-memory PDF: page count, page sizes (points) and rendering."""

    def __init__(self, content: bytes) -> None:
        import pypdfium2 as pdfium

        with _PDFIUM_LOCK:
            try:
                self._doc = pdfium.PdfDocument(content)
            except pdfium.PdfiumError:
                raise BadInput("This file is not a readable PDF.") from None
            self.sizes = [self._doc[i].get_size() for i in range(len(self._doc))]

    def __len__(self) -> int:
        return len(self.sizes)

    def render(self, index: int, width_px: int) -> QImage:
        with _PDFIUM_LOCK:
            page = self._doc[index]
            w_pt, _ = self.sizes[index]
            bitmap = page.render(
                scale=max(width_px, 50) / w_pt, rev_byteorder=True, prefer_bgrx=True
            )
            image = QImage(
                bytes(bitmap.buffer),
                bitmap.width,
                bitmap.height,
                bitmap.stride,
                QImage.Format.Format_RGBX8888,
            ).copy()  # own the pixels: the bitmap buffer goes away with the bitmap
        return image

    def close(self) -> None:
        with _PDFIUM_LOCK:
            self._doc.close()


class PageCanvas(QWidget):
    """One page, scaled to the available width, with an optional highlighted box."""

    def __init__(self) -> None:
        super().__init__()
        self.image: QImage | None = None
        self.page_size: tuple[float, float] = (595.0, 842.0)
        self.highlight: tuple[float, float, float, float] | None = None  # x0, top, x1, bottom (pt)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setAccessibleName("Document page")

    def set_page(self, image: QImage | None, size: tuple[float, float]) -> None:
        self.image = image
        self.page_size = size
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        if self.image is None:
            return QSize(400, 300)
        w = max(self.width(), 300)
        return QSize(w, int(w * self.page_size[1] / self.page_size[0]))

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, w: int) -> int:
        return int(w * self.page_size[1] / self.page_size[0])

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if self.image is None:
            p.end()
            return
        target = QRectF(0, 0, self.width(), self.heightForWidth(self.width()))
        p.fillRect(target, QColor("white"))
        p.drawImage(target, self.image)
        if self.highlight is not None:
            sx = target.width() / self.page_size[0]
            sy = target.height() / self.page_size[1]
            x0, top, x1, bottom = self.highlight
            box = QRectF(x0 * sx - 3, top * sy - 3, (x1 - x0) * sx + 6, (bottom - top) * sy + 6)
            p.setPen(QPen(QColor("#e0a020"), 2))
            p.setBrush(QColor(255, 200, 0, 70))
            p.drawRoundedRect(box, 3, 3)
        p.end()


class PdfView(QWidget):
    """A scrollable page viewer with page navigation; `show_box` scrolls to a highlighted box."""

    page_changed = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.doc: PdfDocument | None = None
        self.page = 0
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        nav = QHBoxLayout()
        self.prev = QToolButton()
        self.prev.setText("‹")
        self.prev.setAccessibleName("Previous page")
        self.prev.clicked.connect(lambda: self.go(self.page - 1))
        self.next = QToolButton()
        self.next.setText("›")
        self.next.setAccessibleName("Next page")
        self.next.clicked.connect(lambda: self.go(self.page + 1))
        self.where = QLabel("")
        self.where.setObjectName("muted")
        nav.addWidget(self.prev)
        nav.addWidget(self.where)
        nav.addWidget(self.next)
        nav.addStretch(1)
        self.zoom = 1.0
        for text, name, factor in (("−", "Zoom out", 1 / 1.25), ("+", "Zoom in", 1.25)):
            b = QToolButton()
            b.setText(text)
            b.setAccessibleName(name)
            b.setToolTip(name)
            b.clicked.connect(lambda _=False, f=factor: self.set_zoom(self.zoom * f))
            nav.addWidget(b)
        col.addLayout(nav)
        self.canvas = PageCanvas()
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(False)
        self.scroller.setWidget(self.canvas)
        self.scroller.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        col.addWidget(self.scroller, 1)
        self._rendered_width = 0

    def load(self, content: bytes | None) -> None:
        if self.doc is not None:
            self.doc.close()
            self.doc = None
        if content is None:
            self.canvas.set_page(None, (595.0, 842.0))
            self.where.setText("")
            return
        self.doc = PdfDocument(content)
        self.page = 0
        self._render()

    def clear(self) -> None:
        self.load(None)
        self.canvas.highlight = None

    def set_zoom(self, zoom: float) -> None:
        self.zoom = min(max(zoom, 0.5), 4.0)
        self._render()
        if self.canvas.highlight is not None:
            self.show_box(self.page, self.canvas.highlight)

    def go(self, page: int) -> None:
        if self.doc is None or not 0 <= page < len(self.doc):
            return
        self.page = page
        self._render()
        self.page_changed.emit(page)

    def show_box(self, page: int, bbox: tuple[float, float, float, float] | None) -> None:
        self.canvas.highlight = bbox
        if self.doc is not None and 0 <= page < len(self.doc) and page != self.page:
            self.page = page
            self._render()
        self.canvas.update()
        if bbox is not None:
            scale = self.canvas.width() / self.canvas.page_size[0]
            x = int((bbox[0] + bbox[2]) / 2 * scale)
            y = int((bbox[1] + bbox[3]) / 2 * scale)
            self.scroller.ensureVisible(x, y, self.scroller.viewport().width() // 2, 120)

    def _fit_width(self) -> int:
        # Leave room for the vertical scroll bar, so "fit width" needs no horizontal one.
        bar = self.scroller.verticalScrollBar()
        extra = 0 if bar.isVisible() else bar.sizeHint().width()
        return self.scroller.viewport().width() - extra - 2

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if (
            self.doc is not None
            and abs(self.scroller.viewport().width() - 4 - self._rendered_width) > 40
        ):
            self._render()

    def _render(self) -> None:
        if self.doc is None:
            return
        width = int(max(self._fit_width(), 400) * self.zoom)
        self.scroller.setHorizontalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff
            if self.zoom <= 1.0
            else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        )
        dpr = self.devicePixelRatioF()
        image = self.doc.render(self.page, int(width * dpr))
        image.setDevicePixelRatio(dpr)
        self._rendered_width = width
        self.canvas.set_page(image, self.doc.sizes[self.page])
        self.canvas.setFixedSize(width, self.canvas.heightForWidth(width))
        self.where.setText(f"Page {self.page + 1} of {len(self.doc)}")
        self.prev.setEnabled(self.page > 0)
        self.next.setEnabled(self.page < len(self.doc) - 1)
