"""Change kinds are typed (ohvault/changes.py): a misspelt kind fails here, not as a stale screen.

The declarations are read with `ast` from the source: every `writes=` a GUI call site
passes, every `watches` a screen declares and every `@changes(...)` on a core operation
must name `Change` members, never bare strings.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from ohvault import documents, importing, vitals
from ohvault.changes import RECORD_CHANGES, Change, changes, changes_of, declared_operations
from ohvault.fhir import plain
from ohvault.model.records import RecordType
from ohvault.storage.repository import Repository
from ohvault.sync.client import SyncClient
from ohvault.vault import Vault

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ohvault"


@dataclass(frozen=True)
class Declaration:
    where: str  # file:line
    what: str  # "writes=", "watches", "@changes"
    node: ast.expr


def declarations(path: Path, root: Path = ROOT) -> list[Declaration]:
    """Every change-kind declaration in one source file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Declaration] = []

    def add(what: str, node: ast.expr) -> None:
        found.append(Declaration(f"{path.relative_to(root)}:{node.lineno}", what, node))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "writes":
                    add("writes=", kw.value)
            func = node.func
            if isinstance(func, ast.Name) and func.id == "changes":
                for arg in node.args:
                    add("@changes", arg)
        elif isinstance(node, ast.ClassDef):
            for stmt in node.body:
                targets = (
                    stmt.targets
                    if isinstance(stmt, ast.Assign)
                    else [stmt.target]
                    if isinstance(stmt, ast.AnnAssign)
                    else []
                )
                value = getattr(stmt, "value", None)
                if value is not None and any(
                    isinstance(t, ast.Name) and t.id == "watches" for t in targets
                ):
                    add("watches", value)
    return found


def problems(decl: Declaration) -> list[str]:
    """What is wrong with one declaration: bare strings and names that are not members."""
    out = []
    for node in ast.walk(decl.node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append(f"{decl.where}: {decl.what} names {node.value!r} as a string, not a Change")
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "Change"
            and node.attr not in Change.__members__
            and not callable(getattr(Change, node.attr, None))
        ):
            out.append(f"{decl.where}: {decl.what} names Change.{node.attr}, which is no kind")
    return out


def test_the_reader_finds_every_form_and_flags_strings_and_misspellings(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "class V(View):\n"
        "    watches = frozenset({Change.OBSERVATON})\n"
        "class W(View):\n"
        "    watches: ClassVar[OpChanges] = frozenset({'profile'})\n"
        "executor.run(op, writes={'observation', Change.NOTE})\n"
        "@changes(Change.SETTINGS, Change.SETTING)\n"
        "def f(): pass\n"
        "executor.run(op, writes={Change.of_record(rec.TYPE)})\n",
        encoding="utf-8",
    )
    found = declarations(probe, tmp_path)
    assert sorted(d.what for d in found) == sorted(
        ["watches", "watches", "writes=", "writes=", "@changes", "@changes"]
    )
    flagged = [p for d in found for p in problems(d)]
    assert len(flagged) == 4, flagged
    assert any("OBSERVATON" in p for p in flagged)
    assert any("'profile'" in p for p in flagged)
    assert any("'observation'" in p for p in flagged)
    assert any("SETTING," in p + "," for p in flagged)


def test_every_declared_change_kind_is_a_change_member() -> None:
    found = [d for path in sorted(PACKAGE.rglob("*.py")) for d in declarations(path)]
    # The walk sees the GUI's declarations and the core's (a walk that finds nothing passes
    # vacuously, so its reach is checked too).
    assert {d.what for d in found} == {"writes=", "watches", "@changes"}
    assert sum(d.where.startswith("ohvault/gui/") for d in found) >= 15
    assert [p for d in found for p in problems(d)] == []


def applied_names(path: Path) -> list[tuple[str, str]]:
    """(file:line, name) of the operation each `ctx.apply(fn, ...)` in `path` runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "apply"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "ctx"
            and node.args
        ):
            fn = node.args[0]
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "?")
            out.append((f"{path.relative_to(ROOT)}:{node.lineno}", name))
    return out


def test_every_operation_the_gui_applies_declares_its_changes() -> None:
    """Caught here, not as an error dialog on a path no GUI test happens to take."""
    for info in pkgutil.walk_packages([str(PACKAGE)], "ohvault."):
        if not info.name.startswith(("ohvault.gui", "ohvault.server", "ohvault.cli")):
            importlib.import_module(info.name)
    declared = {getattr(fn, "__name__", "") for fn in declared_operations()}
    applied = [a for path in sorted((PACKAGE / "gui").rglob("*.py")) for a in applied_names(path)]
    assert len(applied) >= 15
    assert [f"{where}: {name}" for where, name in applied if name not in declared] == []


def test_change_values_are_the_strings_the_screens_watched() -> None:
    # A Change is its string: watch sets built from either match each other.
    assert Change.OBSERVATION == "observation"
    assert "observation" in frozenset({Change.OBSERVATION})
    assert frozenset({"note"}) & frozenset({Change.NOTE})
    assert {Change.of_record(t) for t in RecordType} == RECORD_CHANGES
    assert all(Change.of_record(t).value == t.value for t in RecordType)
    with pytest.raises(ValueError):
        Change("observaton")


def test_core_operations_report_what_they_change() -> None:
    assert changes_of(vitals.add_vital) == {Change.OBSERVATION}
    assert changes_of(importing.import_report) == {
        Change.OBSERVATION,
        Change.DIAGNOSTIC_REPORT,
        Change.DOCUMENT,
    }
    assert changes_of(importing.teach_mapping) == {Change.NAME_MAPPING}
    assert changes_of(documents.attach_document) == {Change.DOCUMENT}
    assert Change.MEDICATION in changes_of(plain.store_fhir_import)
    assert changes_of(Repository.delete_profile) == {Change.PROFILE}
    assert changes_of(Vault.set_setting) == {Change.SETTINGS}
    # A sync may change any record and profiles.
    assert changes_of(SyncClient.sync) == RECORD_CHANGES | {Change.PROFILE}


def test_a_bound_method_reports_its_functions_changes() -> None:
    class Store:
        @changes(Change.NOTE)
        def add_note(self) -> str:
            return "added"

    store = Store()
    assert changes_of(store.add_note) == {Change.NOTE}
    # A method wrapped by another decorator (sync's @guarded) is declared outermost.
    assert changes_of(SyncClient(steps=lambda step: None).enable) == {Change.SETTINGS}
    assert Store.add_note in declared_operations()


def test_an_undeclared_operation_is_a_clear_error() -> None:
    def write_something() -> None:
        pass

    with pytest.raises(TypeError, match="write_something does not declare what it changes"):
        changes_of(write_something)
    with pytest.raises(TypeError, match="does not declare"):
        changes_of(print)
