"""GUI fixtures: a real main window over a real vault in a temp dir, driven offscreen."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings

from ohvault.keys.keychain import Keychain
from ohvault.vault import Vault

PASSPHRASE = "tulip orbit canyon seventy"


def wait_idle(qtbot: Any, window: Any, timeout: int = 15_000) -> None:
    """Until the worker has delivered every result (condition polling, not a fixed sleep)."""
    qtbot.waitUntil(lambda: not window.session.executor.busy, timeout=timeout)


@pytest.fixture(scope="session")
def qapp_args() -> list[str]:
    return ["ohvault-tests"]


@pytest.fixture
def make_window(
    qtbot: Any, vault_home: Path, fast_kdf: Any, keychain: Keychain, tmp_path: Path
) -> Iterator[Callable[..., Any]]:
    """Build MainWindow(s) on vault_home; closes them and deletes the vault afterwards."""
    from ohvault.gui import theme
    from ohvault.gui.app import create_app
    from ohvault.gui.mainwindow import MainWindow

    app = create_app()
    theme.apply(app, "light")
    windows: list[Any] = []

    def factory(size: tuple[int, int] | None = (1200, 760), **kwargs: Any) -> Any:
        kwargs.setdefault("home", vault_home)
        kwargs.setdefault("kdf", fast_kdf)
        kwargs.setdefault("keychain", keychain)
        kwargs.setdefault("interactive", False)
        kwargs.setdefault(
            "settings", QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
        )
        window = MainWindow(**kwargs)
        qtbot.addWidget(window)
        if size is not None:
            window.resize(*size)
        window.show()
        windows.append(window)
        return window

    yield factory
    for window in windows:
        if window.isVisible():
            window.close()
        window.session.executor.wait_for_done()
    Vault.destroy(vault_home, keychain=keychain, with_backups=True)


def create_through_wizard(
    qtbot: Any, window: Any, name: str = "Alex Example", passphrase: str | None = PASSPHRASE
) -> str:
    """Drive the first-run wizard; returns the recovery key it showed."""
    wizard = window.wizard
    assert wizard is not None
    wizard.name.setText(name)
    wizard.next1.click()
    if passphrase:
        wizard.pass1.setText(passphrase)
        wizard.pass2.setText(passphrase)
        wizard.create_button.click()
    else:
        wizard.skip.click()
    qtbot.waitUntil(lambda: wizard.stack.currentIndex() == 3, timeout=15_000)
    key = wizard.recovery_key
    wizard.stored.setChecked(True)
    wizard.finish_button.click()
    qtbot.waitUntil(lambda: window.session.is_unlocked, timeout=5_000)
    wait_idle(qtbot, window)
    return key


@pytest.fixture
def unlocked(qtbot: Any, make_window: Callable[..., Any]) -> Any:
    """A new vault made through the wizard, unlocked, with one profile."""
    window = make_window()
    create_through_wizard(qtbot, window)
    return window


def run_op(qtbot: Any, window: Any, op: Callable[[Any], Any], writes: tuple[str, ...] = ()) -> Any:
    """Run an op on the window's worker and return its result."""
    job = window.session.executor.run(op, writes=set(writes), label="test op")
    qtbot.waitUntil(lambda: job.finished, timeout=15_000)
    wait_idle(qtbot, window)
    if job.error is not None:
        raise job.error
    return job.result


def populate(qtbot: Any, window: Any) -> int:
    from ohvault import demo

    pid = window.session.profile_id
    return int(
        run_op(
            qtbot,
            window,
            lambda ctx: demo.populate(ctx.vault, pid),
            ("observation", "document", "medication", "diagnostic_report"),
        )
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A Qt warning in these tests is a bug in the app (as qutebrowser's suite holds).
    for item in items:
        if "tests/gui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            # The offscreen platform plugin's own limitation, printed whenever a dialog opens.
            item.add_marker(pytest.mark.qt_log_ignore("does not support propagateSizeHints"))


@pytest.fixture(scope="session")
def gui_sync_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The sync tests' real server (uvicorn on 127.0.0.1, SQLite), one per xdist worker."""
    from tests.sync.server_proc import ServerProc

    work = tmp_path_factory.mktemp("gui-sync-server")
    server = ServerProc(work, f"sqlite:///{work / 'server.db'}").start()
    yield server
    server.stop()
