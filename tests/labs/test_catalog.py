"""Validation of the biomarker catalog data (resources/catalog/*.json)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from ohvault.labs.catalog import (
    Catalog,
    catalog_dir,
    load_catalog,
    normalise_name,
)
from ohvault.labs.units import spelling_key

LOINC_RE = re.compile(r"^(\d{1,7})-(\d)$")


def loinc_check_digit(number: str) -> int:
    """LOINC mod-10 check digit (Luhn variant, see LOINC user guide appendix)."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            total += d // 10 + d % 10
        else:
            total += d
    return (10 - total % 10) % 10


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def raw() -> dict[str, object]:
    data = json.loads((catalog_dir() / "analytes.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_check_digit_algorithm_on_known_codes() -> None:
    for code in ["2345-7", "4548-4", "718-7", "2160-0", "59261-8", "33914-3"]:
        number, check = code.split("-")
        assert loinc_check_digit(number) == int(check)
    assert loinc_check_digit("2345") != 8


def test_every_loinc_is_well_formed(catalog: Catalog) -> None:
    seen: dict[str, str] = {}
    for a in catalog.all():
        assert a.loincs, a.id
        for code in a.loincs:
            m = LOINC_RE.match(code)
            assert m, f"{a.id}: malformed LOINC {code!r}"
            assert loinc_check_digit(m.group(1)) == int(m.group(2)), (
                f"{a.id}: bad check digit {code}"
            )
            assert seen.setdefault(code, a.id) == a.id, f"{code} used by {seen[code]} and {a.id}"


def test_size_and_panels(catalog: Catalog) -> None:
    assert len(catalog.all()) >= 200
    cats = {a.category for a in catalog.all()}
    for needed in [
        "hematology",
        "metabolic",
        "lipids",
        "liver",
        "kidney",
        "thyroid",
        "diabetes",
        "iron",
        "vitamins",
        "electrolytes",
        "inflammation",
        "hormones",
        "coagulation",
        "urinalysis",
        "immunology",
    ]:
        assert needed in cats, needed


def test_every_conversion_reversible(catalog: Catalog) -> None:
    for a in catalog.all():
        units = [c.unit for c in a.conversions]
        assert a.canonical_unit in units, a.id
        assert len(units) == len(set(units)), a.id
        canon = next(c for c in a.conversions if c.unit == a.canonical_unit)
        assert (canon.factor, canon.divisor, canon.offset) == (1.0, 1.0, 0.0), a.id
        lo = a.plausible_low if a.plausible_low is not None else 0.0
        hi = a.plausible_high if a.plausible_high is not None else 1000.0
        samples = [lo + (hi - lo) * f for f in (0.0, 0.013, 0.25, 0.5, 0.77, 1.0)]
        for conv in a.conversions:
            assert math.isfinite(conv.factor) and conv.factor > 0, (a.id, conv.unit)
            assert math.isfinite(conv.divisor) and conv.divisor > 0, (a.id, conv.unit)
            for v in samples:
                there = conv.from_canonical(v)
                back = conv.to_canonical(there)
                assert math.isclose(back, v, rel_tol=1e-9, abs_tol=1e-9), (a.id, conv.unit, v)
                for other in a.conversions:
                    x = a.convert(there, conv.unit, other.unit)
                    assert math.isclose(
                        a.convert(x, other.unit, conv.unit), there, rel_tol=1e-9, abs_tol=1e-9
                    )


def test_units_are_known_ucum_codes(catalog: Catalog) -> None:
    known = catalog.unit_table.ucum_codes | {""}
    for a in catalog.all():
        for unit in a.units:
            assert unit in known, f"{a.id}: unit {unit!r} missing from units.json"


def test_no_synonym_claimed_twice(catalog: Catalog, raw: dict[str, object]) -> None:
    assert catalog.collisions == []
    shared = catalog.shared_names()
    owners: dict[str, str] = {}
    analytes = raw["analytes"]
    assert isinstance(analytes, list)
    for a in analytes:
        for syn in [*a["synonyms"]]:
            key = normalise_name(syn)
            assert key, (a["id"], syn)
            assert key not in shared, f"{syn!r} of {a['id']} is also a shared name"
            assert owners.setdefault(key, a["id"]) == a["id"], (
                f"{syn!r}: {owners[key]} and {a['id']}"
            )


def test_shared_names_are_resolvable(catalog: Catalog, raw: dict[str, object]) -> None:
    shared = raw["shared_names"]
    assert isinstance(shared, list)
    for entry in shared:
        cands = [catalog.by_id(i) for i in entry["analytes"]]
        assert all(cands), entry
        if entry.get("default") is not None:
            assert entry["default"] in entry["analytes"], entry
            continue
        # without a default every pair must be told apart by unit or by section
        for i, a in enumerate(cands):
            for b in cands[i + 1 :]:
                assert a and b
                assert not set(a.units) & set(b.units) or a.category != b.category, entry


def test_unit_spellings_unambiguous(catalog: Catalog) -> None:
    data = json.loads((catalog_dir() / "units.json").read_text(encoding="utf-8"))
    folded: dict[str, str] = {}
    for entry in data["units"]:
        for sp in [entry["ucum"], *entry["spellings"]]:
            key = spelling_key(sp).casefold()
            assert folded.setdefault(key, entry["ucum"]) == entry["ucum"], (sp, folded[key])


def test_reference_inside_plausible(catalog: Catalog) -> None:
    for a in catalog.all():
        for bound in (a.ref_low, a.ref_high):
            if bound is not None:
                assert a.is_plausible(bound), a.id
        if a.ref_low is not None and a.ref_high is not None:
            assert a.ref_low <= a.ref_high, a.id


@pytest.mark.parametrize(
    ("loinc", "value", "src", "dst", "expected", "tol"),
    [
        ("2345-7", 5.5, "mmol/L", "mg/dL", 99.09, 0.01),
        ("2345-7", 126, "mg/dL", "mmol/L", 6.99, 0.01),
        ("2093-3", 200, "mg/dL", "mmol/L", 5.17, 0.01),
        ("2571-8", 150, "mg/dL", "mmol/L", 1.69, 0.01),
        ("2160-0", 88.4, "umol/L", "mg/dL", 1.0, 0.005),
        ("2160-0", 1.0, "mg/dL", "µmol/L", 88.4, 0.1),
        ("4548-4", 48, "mmol/mol", "%", 6.54, 0.01),  # IFCC = (NGSP - 2.15) * 10.929
        ("4548-4", 6.5, "%", "mmol/mol", 47.54, 0.01),
        ("4548-4", 2.15, "%", "mmol/mol", 0.0, 1e-9),
        ("718-7", 135, "g/L", "g/dL", 13.5, 1e-9),
        ("6690-2", 7.2, "G/L", "10*3/uL", 7.2, 1e-9),
        ("6690-2", 7500, "/cumm", "10^3/µL", 7.5, 1e-9),
        ("1989-3", 75, "nmol/L", "ng/mL", 30.05, 0.01),
    ],
)
def test_known_conversions(
    catalog: Catalog, loinc: str, value: float, src: str, dst: str, expected: float, tol: float
) -> None:
    a = catalog.by_loinc(loinc)
    assert a is not None
    assert a.convert(value, src, dst) == pytest.approx(expected, abs=tol)


@pytest.mark.parametrize(
    ("printed", "unit", "expected"),
    [
        ("Hemoglobin A1c", None, "4548-4"),
        ("HbA1c", None, "4548-4"),
        ("Glycated haemoglobin", None, "4548-4"),
        ("Glykiertes Hämoglobin", None, "4548-4"),
        ("Glikált hemoglobin", None, "4548-4"),
        ("Hemoglobina glicada", None, "4548-4"),
        ("GLYCATED HAEMOGLOBIN (HbA1c)", None, "4548-4"),
        ("Neutrophils", "%", "770-8"),
        ("Neutrophils", "x10^3/uL", "751-8"),
        ("Neutrofil granulocita", "G/L", "751-8"),
        ("Glucose", "mg/dL", "2345-7"),
        ("Haemoglobin estimation", "g/L", "718-7"),
        ("Creatinine, Serum 01", "mg/dL", "2160-0"),
        ("Húgysav", "µmol/l", "3084-1"),
        ("Colesterol HDL", "mg/dL", "2085-9"),
        ("Gesamtcholesterin", "mmol/l", "2093-3"),
    ],
)
def test_match_examples(catalog: Catalog, printed: str, unit: str | None, expected: str) -> None:
    a = catalog.match(printed, unit)
    assert a is not None and a.loinc == expected


def test_shared_name_by_section_and_value(catalog: Catalog) -> None:
    a = catalog.match("Glucose", section="urinalysis", qualitative=True)
    assert a is not None and a.id == "u_glucose"
    a = catalog.match("Leukocytes", "/HPF", section="urinalysis")
    assert a is not None and a.id == "u_wbc"
    a = catalog.match("Leukocytes", section="urinalysis", qualitative=True)
    assert a is not None and a.id == "u_le"
    assert catalog.match("Neutrophils") is None  # ambiguous without a unit: not guessed
    assert catalog.match("Zonulin") is None


def test_search_and_lookup(catalog: Catalog) -> None:
    names = [a.id for a in catalog.search("hba")]
    assert names[0] == "hba1c"
    assert "tsh" in [a.id for a in catalog.search("thyro")]
    assert catalog.search("") == []
    a = catalog.by_loinc("59261-8")
    assert a is not None and a.preferred_name == "Hemoglobin A1c" and a.loinc == "4548-4"
    assert catalog.category_for_heading("LIPID PROFILE") == "lipids"
    assert catalog.category_for_heading("Urinalysis, Complete") == "urinalysis"


def test_catalog_is_package_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.resources

    from ohvault import paths
    from ohvault.labs.errors import CatalogError

    shipped = Path(str(importlib.resources.files("ohvault.resources")))
    assert catalog_dir() == shipped / "catalog"
    monkeypatch.setattr(paths, "resources_dir", lambda: tmp_path)  # a broken installation
    with pytest.raises(CatalogError, match="reinstall"):
        catalog_dir()
