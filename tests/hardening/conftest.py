"""The GUI engineer's fixtures (a real window over a real vault), for the hardening tests."""

from tests.gui.conftest import make_window, qapp_args, unlocked  # noqa: F401 - pytest fixtures
