"""The desktop app. The only package that imports Qt; everything it shows comes from the core."""
