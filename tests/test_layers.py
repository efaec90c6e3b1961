"""The packages depend on each other in one direction (docs/architecture.md, "Layers").

Every `import` in ohvault/ is read with `ast` (lazy imports inside functions and
`TYPE_CHECKING` blocks included, since they are dependencies too), so a new import that
points the wrong way fails here rather than as an import cycle months later.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ohvault"

# The gui may use these storage modules (row codecs, the Repository's constants, the
# connection guard); the rest of storage (audit chain, connection, migrations, file lock)
# is reached through ohvault.vault.
GUI_MAY_USE_FROM_STORAGE = {"codec", "repository", "guarded"}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, root: Path = ROOT) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in `path`; `from a import b` yields a and a.b."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module_name(path, root).split(".")
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here if is_package else here[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:
                yield node.lineno, f"{target}.{alias.name}"


def sources(under: str = "") -> list[Path]:
    return sorted((PACKAGE / under).rglob("*.py"))


def violations(files: list[Path], forbidden: re.Pattern[str]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in files
        for line, name in imported_modules(path)
        if forbidden.fullmatch(name)
    ]


def test_the_import_reader_sees_every_form(tmp_path: Path) -> None:
    """The checks below are only as good as the reader: lazy, relative and aliased forms count."""
    pkg = tmp_path / "ohvault" / "storage"
    pkg.mkdir(parents=True)
    probe = pkg / "probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ohvault.vault import Vault\n"
        "def f():\n    from ..vault import backup\n    import ohvault.vault.unlock as u\n"
        "from . import db\n",
        encoding="utf-8",
    )
    names = {name for _, name in imported_modules(probe, tmp_path)}
    assert {
        "ohvault.vault",
        "ohvault.vault.backup",
        "ohvault.vault.unlock",
        "ohvault.storage.db",
    } <= names


def test_storage_never_imports_the_vault() -> None:
    assert violations(sources("storage"), re.compile(r"ohvault\.vault(\..*)?")) == []


@pytest.mark.parametrize("package", ["storage", "keys", "model", "labs"])
def test_lower_layers_never_import_upper_ones(package: str) -> None:
    upper = re.compile(r"ohvault\.(vault|bundles|sync|server|cli|gui|fhir|importing)(\..*)?")
    assert violations(sources(package), upper) == []


def test_only_the_gui_imports_qt() -> None:
    outside_gui = [p for p in sources() if "gui" not in p.relative_to(PACKAGE).parts[:1]]
    assert violations(outside_gui, re.compile(r"(PySide6|shiboken6|PyQt[56])(\..*)?")) == []


def test_fhir_never_imports_bundles() -> None:
    assert violations(sources("fhir"), re.compile(r"ohvault\.bundles(\..*)?")) == []


def test_gui_reaches_storage_only_through_the_vault() -> None:
    allowed = "|".join(sorted(GUI_MAY_USE_FROM_STORAGE))
    internals = re.compile(rf"ohvault\.storage\.(?!(?:{allowed})(?:\.|$)).+")
    assert violations(sources("gui"), internals) == []


SQL_WRITE = re.compile(r"\b(INSERT( OR \w+)? INTO|UPDATE \w+ SET|DELETE FROM)\b")


def modules_writing_sql() -> set[str]:
    """Modules outside storage/ (and the server, which has its own database) with SQL writes."""
    found = set()
    for path in sources():
        where = path.relative_to(PACKAGE)
        if where.parts[0] in ("storage", "server"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        strings = (n.value for n in ast.walk(tree) if isinstance(n, ast.Constant))
        if any(isinstance(v, str) and SQL_WRITE.search(v) for v in strings):
            found.add(where.as_posix())
    return found


def test_direct_table_writes_are_the_ones_the_architecture_doc_names() -> None:
    """docs/architecture.md lists every module that writes tables beside the Repository."""
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    start = doc.index("**PHI goes through the Repository")
    section = doc[start : doc.index("\n- **", start)]
    named = {n for n in re.findall(r"`([a-z_/]+\.py)`", section) if not n.startswith("tests/")}
    assert all((PACKAGE / name).is_file() for name in named), named
    assert modules_writing_sql() - named == set()


def test_the_vault_package_keeps_its_public_names() -> None:
    """`from ohvault.vault import ...` keeps working for every caller after the package move."""
    import ohvault.vault as vault

    for name in vault.__all__:
        assert getattr(vault, name) is not None, name
    assert vault.Vault.__module__ == "ohvault.vault.lifecycle"
    assert vault.VaultFiles.__module__ == "ohvault.vault.files"
    assert vault.unlock_database.__module__ == "ohvault.vault.unlock"
