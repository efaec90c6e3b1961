"""Synthetic lab reports turned into scans the way real ones arrive: image-only PDFs.

A page is rendered at 150-300 dpi, rotated a little (a sheet fed askew), blurred (focus, toner),
JPEG-compressed (most scanners and phones), given a fax header line across the top and a
coloured stamp over part of the text, then written back as a PDF holding only the image (no
text layer), so ``parse_pdf(..., ocr=True)`` has to read it as it would a real scan.
Deterministic for a given seed. Everything is synthetic.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageFont


@dataclass(frozen=True)
class ScanProfile:
    name: str
    dpi: int = 300
    skew_degrees: float = 0.0  # the largest rotation; each page gets a random one up to this
    blur_radius: float = 0.0
    jpeg_quality: int | None = None  # None: lossless
    fax_header: bool = False
    stamp: bool = False
    grey_background: int = 255  # 255 white paper; lower for a greyish photocopy


PROFILES = [
    ScanProfile("clean-300", dpi=300),
    ScanProfile("office-200", dpi=200, skew_degrees=1.5, blur_radius=0.6, jpeg_quality=70),
    ScanProfile(
        "fax-200",
        dpi=200,
        skew_degrees=2.5,
        blur_radius=0.8,
        jpeg_quality=50,
        fax_header=True,
        stamp=True,
        grey_background=235,
    ),
    ScanProfile("phone-150", dpi=150, skew_degrees=3.0, blur_radius=0.5, jpeg_quality=60),
]
BY_NAME = {p.name: p for p in PROFILES}


def scan_pdf(pdf: bytes, profile: ScanProfile, seed: int = 0) -> bytes:
    """`pdf` printed and scanned with `profile`: an image-only PDF at the profile's dpi."""
    import pypdfium2

    rng = random.Random(seed)
    doc = pypdfium2.PdfDocument(pdf)
    pages: list[Image.Image] = []
    try:
        for index in range(len(doc)):
            page = doc[index]
            try:
                image = page.render(scale=profile.dpi / 72).to_pil().convert("RGB")
            finally:
                page.close()
            pages.append(_degrade(image, profile, rng, index + 1))
    finally:
        doc.close()
    out = io.BytesIO()
    pages[0].save(
        out, "PDF", resolution=profile.dpi, save_all=True, append_images=pages[1:], quality=95
    )
    return out.getvalue()


def _degrade(image: Image.Image, p: ScanProfile, rng: random.Random, page_no: int) -> Image.Image:
    if p.grey_background < 255:
        # Paper and toner as a photocopier sees them: white becomes grey, black stays black.
        g = p.grey_background
        image = image.point(lambda v: int(v * g / 255))
    if p.fax_header:
        _fax_header(image, p.dpi, page_no, rng)
    if p.stamp:
        _stamp(image, p.dpi, rng)
    if p.skew_degrees:
        angle = rng.uniform(-p.skew_degrees, p.skew_degrees)
        fill = (p.grey_background,) * 3
        image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)
    if p.blur_radius:
        image = image.filter(ImageFilter.GaussianBlur(p.blur_radius))
    if p.jpeg_quality is not None:
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=p.jpeg_quality)
        image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return image


def _font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size_px)
        except OSError:
            continue
    return ImageFont.load_default()


def _fax_header(image: Image.Image, dpi: int, page_no: int, rng: random.Random) -> None:
    draw = ImageDraw.Draw(image)
    number = f"+1 555 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"
    text = f"NOV-03-2025 14:{rng.randrange(10, 59)}  FROM: LAB FAX {number}   P.{page_no:03d}/002"
    draw.text((int(dpi * 0.2), int(dpi * 0.05)), text, fill=(30, 30, 30), font=_font(dpi // 9))


def _stamp(image: Image.Image, dpi: int, rng: random.Random) -> None:
    """A red 'RECEIVED' stamp, half transparent, over the upper right of the results."""
    w, h = image.size
    box_w, box_h = int(dpi * 2.2), int(dpi * 0.8)
    x = int(w * rng.uniform(0.45, 0.6))
    y = int(h * rng.uniform(0.25, 0.45))
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    red = (200, 30, 40, 120)
    draw.rounded_rectangle(
        (x, y, x + box_w, y + box_h), radius=dpi // 10, outline=red, width=dpi // 40
    )
    draw.text((x + dpi // 8, y + dpi // 6), "RECEIVED", fill=red, font=_font(dpi // 3))
    draw.text((x + dpi // 8, y + dpi // 2), "03 NOV 2025", fill=red, font=_font(dpi // 7))
    image.paste(Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB"))
