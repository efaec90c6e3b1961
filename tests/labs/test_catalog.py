"""Validation of the biomarker catalog data (resources/catalog/*.json)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from ohvault.labs.catalog import (
    Analyte,
    Catalog,
    catalog_dir,
    load_catalog,
    normalise_name,
)
from ohvault.labs.errors import CatalogError
from ohvault.labs.loinc import loinc_display, loinc_terms, read_subset
from ohvault.labs.units import spelling_key, unit_property
from ohvault.paths import resources_dir

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


def test_every_loinc_is_well_formed(catalog: Catalog, raw: dict[str, object]) -> None:
    analytes = raw["analytes"]
    assert isinstance(analytes, list)
    # derived indices LOINC has no code for say so, with a reason
    codeless = {a["id"] for a in analytes if a.get("no_loinc")}
    seen: dict[str, str] = {}
    for a in catalog.all():
        assert a.loincs or a.id in codeless, a.id
        assert a.loinc == (a.loincs[0] if a.loincs else None)
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
    # a source checkout reads its own resources/, also a second checkout (a git worktree run
    # with PYTHONPATH) while an editable install points ohvault.resources at the first
    checkout = Path(paths.__file__).resolve().parents[1]
    assert catalog_dir() == checkout / "resources" / "catalog"
    # installed (no checkout around the package): the package data importlib.resources finds
    monkeypatch.setattr(paths, "__file__", str(tmp_path / "site" / "ohvault" / "paths.py"))
    assert paths.resources_dir() == shipped
    assert (shipped / "catalog" / "analytes.json").is_file()
    monkeypatch.setattr(paths, "resources_dir", lambda: tmp_path)  # a broken installation
    with pytest.raises(CatalogError, match="reinstall"):
        catalog_dir()


# -- LOINC: every code names the analyte, and the code follows the unit's property -----------

# Analytes whose codes legitimately differ in component (variants of one test).
SAME_TEST_COMPONENTS = {
    "egfr": "formula variants (race-free, black/non-black, female) of one predicted GFR",
    "co2": "total CO2 and bicarbonate are reported interchangeably",
    "anion_gap": "anion gap with or without potassium",
    "vitd": "25-OH vitamin D3 and D2+D3 (total)",
    "hcg": "hCG and its beta subunit",
    "vitd_125": "1,25-dihydroxyvitamin D and calcitriol (D3)",
}
# LOINC names some tests by a word no lab prints (Lutropin for LH): component prefix -> lab word.
COMPONENT_ALIASES = {
    "Hemoglobin.gastrointestinal": "occult",
    "Lutropin": "luteinizing",
    "Coagulation tissue factor induced": "prothrombin",
    "Coagulation surface induced": "thromboplastin",
    "Lipoprotein.beta": "ldl",  # beta lipoproteins are LDL, alpha HDL, pre-beta VLDL
    "Lipoprotein.alpha": "hdl",
    "Lipoprotein.pre-beta": "vldl",
}


def _component_words(component: str) -> set[str]:
    return {w for w in normalise_name(re.sub(r"[./+^]", " ", component)).split() if len(w) >= 2}


def _names_words(a: Analyte) -> set[str]:
    return {w for s in (a.preferred_name, *a.synonyms) for w in normalise_name(s).split()}


def test_every_code_is_in_the_shipped_loinc_subset(catalog: Catalog) -> None:
    terms = loinc_terms()
    for a in catalog.all():
        for code in (*a.loincs, *(c for c in a.loinc_by_property.values() if c)):
            assert code in terms, f"{a.id}: {code} not in resources/loinc/loinc-subset.tsv"


def test_every_code_names_the_analyte(catalog: Catalog) -> None:
    """The component of every code is the analyte's: a code of another test fails here."""
    for a in catalog.all():
        codes = [*a.loincs, *(c for c in a.loinc_by_property.values() if c)]
        components = {loinc_terms()[c].component.split("^")[0] for c in codes}
        if a.id not in SAME_TEST_COMPONENTS and codes:
            assert len(components) == 1, f"{a.id}: codes name different tests {components}"
        names = _names_words(a)
        for comp in components:
            alias = next((w for k, w in COMPONENT_ALIASES.items() if comp.startswith(k)), None)
            words = {alias} if alias else _component_words(comp)
            # five letters are enough to tell "Triiodothyronine" from "Toxoplasma"
            assert any(w[:5] == n[:5] for w in words for n in names), (a.id, comp)


def test_codes_that_named_another_test_are_gone(catalog: Catalog) -> None:
    wrong = {
        "83107-3": "pth",  # NT-proBNP
        "83083-6": "ca125",  # CA 15-3
        "14687-8": "dheas",  # a transfusion date
        "14922-9": "t3",  # Toxoplasma antibodies
        "1990-1": "vitd_125",  # cholecalciferol, not 1,25-dihydroxyvitamin D
        "2286-3": "rbc_folate",  # follitropin
        "1654-3": "vitb6",  # 1-naphthalene
        "2147-7": "cortisol",  # free cortisol in 24-hour urine
        "49054-0": "vitd",  # 25-OH vitamin D2 only
        "7917-8": "hiv",  # HIV-1 antibodies only
        "2990-0": "free_testosterone",  # free + weakly bound (bioavailable)
        "20438-8": "glucose_2h",  # 1 hour after glucose
    }
    for code, analyte_id in wrong.items():
        a = catalog.by_id(analyte_id)
        assert a is not None and code not in a.loincs, (analyte_id, code)


def test_loinc_property_agrees_with_loinc(catalog: Catalog) -> None:
    """Where LOINC says a code's property ([Mass/volume]...), the catalog files it under it."""
    named = {
        "[Mass/volume]": "MCnc",
        "[Moles/volume]": "SCnc",
        "[Units/volume]": "ACnc",
        "[Enzymatic activity/volume]": "ACnc",
    }
    for a in catalog.all():
        slots = {unit_property(a.canonical_unit): a.loinc, **a.loinc_by_property}
        for prop, code in slots.items():
            long_name = loinc_terms()[code].long_name if code else None
            for marker, expected in named.items():
                if long_name and marker in long_name and prop in named.values():
                    assert prop.startswith(expected), (a.id, code, prop, long_name)


def test_every_unit_has_a_code_of_its_property(catalog: Catalog) -> None:
    for a in catalog.all():
        canonical = unit_property(a.canonical_unit)
        for unit in a.units:
            prop = unit_property(unit)
            assert prop == canonical or prop in a.loinc_by_property, (
                f"{a.id}: {unit} ({prop}) needs its own code in loinc_by_property (or null)"
            )


@pytest.mark.parametrize(
    ("analyte_id", "unit", "code"),
    [
        ("glucose", "mg/dL", "2345-7"),
        ("glucose", "mmol/L", "14749-6"),
        ("hba1c", "%", "4548-4"),
        ("hba1c", "mmol/mol", "59261-8"),
        ("creatinine", "umol/L", "14682-9"),
        ("chol", "mmol/L", "14647-2"),
        ("cortisol", "nmol/L", "14675-3"),
        ("ddimer", "ug/mL{FEU}", "48065-7"),
        ("ddimer", "mg/L", None),  # no calibrator printed: neither FEU nor DDU
        ("ddimer_ddu", "ng/mL{DDU}", "48066-5"),
        ("tsh", "u[IU]/mL", "3016-3"),
        ("ckmb", "ng/mL", "13969-1"),
        ("ckmb_activity", "U/L", "32673-6"),
        ("renin_activity", "ng/mL/h", "2915-7"),
        ("u_ph", None, "5803-2"),  # no unit (qualitative or unit-less): the primary code
        ("glucose", "mmol/l", "14749-6"),  # a printed spelling is read as UCUM first
        ("tsh", "µIU/mL", "3016-3"),
    ],
)
def test_loinc_for_unit(
    catalog: Catalog, analyte_id: str, unit: str | None, code: str | None
) -> None:
    a = catalog.by_id(analyte_id)
    assert a is not None
    assert a.loinc_for_unit(unit) == code
    assert catalog.loinc_for(analyte_id, unit) == code


def test_unit_of_another_property_gets_no_borrowed_code(catalog: Catalog) -> None:
    a = catalog.by_id("glucose")
    assert a is not None
    assert a.loinc_for_unit("U/L") is None  # a unit glucose is never measured in


def test_ckmb_and_renin_told_apart_by_unit(catalog: Catalog) -> None:
    a = catalog.match("CK-MB", "ng/mL")
    assert a is not None and a.id == "ckmb"
    a = catalog.match("CK-MB", "U/L")
    assert a is not None and a.id == "ckmb_activity"
    a = catalog.match("Renin", "ng/mL/h")
    assert a is not None and a.id == "renin_activity"
    a = catalog.match("Renin", "µIU/mL")
    assert a is not None and a.id == "renin"


def test_loinc_display_names() -> None:
    assert loinc_display("14749-6") == "Glucose [Moles/volume] in Serum or Plasma"
    assert loinc_display("6690-2") == "Leukocytes"  # no long name in the subset: the component
    assert loinc_display("0000-0") is None
    assert loinc_display(None) is None


def test_loinc_subset_carries_the_notice() -> None:
    text = (resources_dir() / "loinc" / "loinc-subset.tsv").read_text(encoding="utf-8")
    assert "content from LOINC (http://loinc.org)" in text.splitlines()[0]
    assert "Regenstrief" in (resources_dir() / "loinc" / "README.md").read_text(encoding="utf-8")


def test_bad_subset_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "loinc-subset.tsv"
    bad.write_text("code\tname\n1-8\tX\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="columns"):
        read_subset(bad)
    with pytest.raises(CatalogError, match="cannot read"):
        read_subset(tmp_path / "missing.tsv")


# -- growth: families, derived indices, the families of tests real reports carry ------------


def test_catalog_covers_what_real_reports_print(catalog: Catalog) -> None:
    assert len(catalog.all()) >= 500
    for printed, unit, expected in [
        ("LDL-P", "nmol/L", "ldl_p"),
        ("Small LDL-P", "nmol/L", "ldl_p_small"),
        ("HDL-P (total)", "umol/L", "hdl_p"),
        ("LDL Size", "nm", "ldl_size"),
        ("Omega-3 Index", "%", "omega3_index"),
        ("AA/EPA Ratio", None, "aa_epa"),
        ("Campesterol", "mg/L", "campesterol"),
        ("Neutrophil/lymphocyte ratio", None, "nlr"),
        ("Mentzer index", None, "mentzer"),
        ("TG/HDL ratio", None, "tg_hdl"),
        ("Granular casts", "/LPF", "u_gran_casts"),
        ("Mucus", None, "u_mucus"),
        ("CA 27.29", "U/mL", "ca2729"),
        ("Chromogranin A", "ng/mL", "chromogranin"),
        ("Reverse T3", "pg/mL", "rt3"),
        ("Vitamin A", "µg/dL", "vita"),
        ("Methylmalonic acid", "nmol/L", "mma"),
    ]:
        a = catalog.match(printed, unit)
        assert a is not None and a.id == expected, (printed, a and a.id)


def test_allergen_ige_is_one_family_with_printed_name_patterns(catalog: Catalog) -> None:
    family = catalog.family("sige")
    assert len(family) >= 100
    assert all(a.category == "allergy" and a.canonical_unit == "k[IU]/L" for a in family)
    for printed in ["Peanut IgE", "IgE Peanut", "f13 Peanut", "Peanut (f13)", "Erdnuss IgE"]:
        a = catalog.match(printed, "kU/L")
        assert a is not None and a.id == "sige_peanut" and a.loinc == "6206-7", printed
    a = catalog.match("d1 House dust mite (D. pteronyssinus)", "kUA/L")
    assert a is not None and a.loinc == "6096-2"
    a = catalog.match("Parlagfű IgE")  # Hungarian: ragweed
    assert a is not None and a.id == "sige_ragweed"
    # an ImmunoCAP code alone names nothing: "t3" is birch pollen and triiodothyronine
    t3 = catalog.match("T3", "ng/dL")
    assert t3 is not None and t3.id == "t3"
    assert catalog.match("Peanut") is None  # the food is not a test


def test_family_entries_are_validated(tmp_path: Path) -> None:
    from ohvault.labs.catalog import expand_family

    good = {
        "id": "x",
        "preferred_name": "{name} IgE",
        "name_patterns": ["{name} IgE", "IgE {name}"],
        "code_patterns": ["{code} {name}"],
        "category": "allergy",
        "members": [
            {"id": "a", "code": "f1", "name": "Egg", "loinc": "6106-9", "synonyms": ["Ei"]}
        ],
    }
    (entry,) = expand_family(good)
    assert entry["id"] == "x_a" and entry["loinc"] == ["6106-9"]
    assert entry["synonyms"] == ["Egg IgE", "IgE Egg", "f1 Egg", "Ei IgE", "IgE Ei", "f1 Ei"]
    with pytest.raises(CatalogError, match="bad family 'x'"):
        expand_family({**good, "members": [{"id": "a", "name": "Egg"}]})


def test_derived_indices_without_a_loinc_code_say_why(raw: dict[str, object]) -> None:
    analytes = raw["analytes"]
    assert isinstance(analytes, list)
    for a in analytes:
        if not a["loinc"]:
            # a derived index LOINC has no code for, or a measured test (an ion-mobility
            # subfraction) stored without a code rather than with one nobody could check
            reason = a["no_loinc"]
            assert "derived index" in reason or "could be checked" in reason, a["id"]
    bad = {**analytes[0], "loinc": []}
    with pytest.raises(CatalogError, match="no LOINC code"):
        from ohvault.labs.catalog import parse_catalog

        parse_catalog({**raw, "analytes": [bad], "families": []}, load_catalog().unit_table)


def test_vital_sign_codes_are_in_the_loinc_subset() -> None:
    """FHIR export names vital signs by LOINC's long name, so their codes ship too."""
    from ohvault import vitals

    terms = loinc_terms()
    assert not vitals.VITAL_LOINCS - terms.keys()
    assert "Blood pressure" in (loinc_display(vitals.BP_PANEL) or "")
