"""The CLI's text output shows units as people read them; its JSON keeps UCUM."""

from __future__ import annotations

import json

from tests.vault.test_cli import cli  # noqa: F401  (the fixture)


def test_list_shows_human_units_and_json_keeps_ucum(cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    cli("init", "--profile", "P")
    assert (
        cli("observations", "add", "--analyte", "TSH", "--value", "5.9", "--unit", "µIU/mL")[0] == 0
    )
    assert (
        cli("observations", "add", "--analyte", "WBC", "--value", "6.1", "--unit", "x10^3/uL")[0]
        == 0
    )
    code, out, _ = cli("observations", "list")
    assert code == 0 and "µIU/mL" in out and "10³/µL" in out
    assert "[IU]" not in out and "10*3" not in out
    rows = {r["analyte"]: r for r in json.loads(cli("observations", "list", "--json")[1])}
    tsh = next(r for r in rows.values() if r["loinc"] == "3016-3")
    assert tsh["unit"] == "u[IU]/mL" and tsh["flag"] == "H"  # flagged from the catalog range
    wbc = next(r for r in rows.values() if r["loinc"] == "6690-2")
    assert wbc["unit"] == "10*3/uL" and wbc["flag"] is None
