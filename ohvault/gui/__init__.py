"""The desktop app. The only package that imports Qt; everything it shows comes from the core."""

# Before any signal is emitted: PySide6 6.12.0 would otherwise crash the app after a few
# thousand emits (see qtfix).
from ohvault.gui import qtfix as _qtfix  # noqa: F401
