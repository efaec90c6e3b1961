"""Regenerate resources/loinc/loinc-subset.tsv: the LOINC terms the biomarker catalog uses.

Usage: python tools/loinc_subset.py LOINC_TABLE.tsv
LOINC_TABLE.tsv has the columns loinc, component, long_common_name (e.g. the LOINC core table
reduced to those columns). Every code of resources/catalog/analytes.json and of the vital
signs (ohvault/vitals.py) must be in it.
"""

from __future__ import annotations

import csv
import sys

from ohvault.labs.catalog import load_catalog, resources_dir
from ohvault.labs.loinc import COLUMNS, SUBSET_FILE

NOTICE = (
    "# This material contains content from LOINC (http://loinc.org). LOINC is copyright (c) "
    "Regenstrief Institute, Inc. and the Logical Observation Identifiers Names and Codes (LOINC) "
    "Committee and is available at no cost under the license at http://loinc.org/license. "
    "LOINC(R) is a registered United States trademark of Regenstrief Institute, Inc.\n"
)


# Codes newer than the LOINC release the table was cut from (published by Regenstrief since).
NEWER = {
    "98979-8": {
        "loinc": "98979-8",
        "component": "Glomerular filtration rate/1.73 sq M.predicted",
        "long_common_name": "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in "
        "Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)",
    },
}


def catalog_codes() -> set[str]:
    """Every code ohvault stores or exports: the catalog's and the vital signs'."""
    from ohvault import vitals

    codes: set[str] = set()
    for analyte in load_catalog().all():
        codes.update(analyte.loincs)
        codes.update(c for c in analyte.loinc_by_property.values() if c)
    codes.update(vitals.VITAL_LOINCS)
    return codes


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8", newline="") as fh:
        table = {row["loinc"]: row for row in csv.DictReader(fh, delimiter="\t")}
    table = {**NEWER, **table}
    codes = catalog_codes()
    missing = sorted(codes - table.keys())
    if missing:
        print("not in the LOINC table: " + ", ".join(missing), file=sys.stderr)
        return 1
    out = resources_dir() / "loinc" / SUBSET_FILE
    with out.open("w", encoding="utf-8", newline="") as fh:
        fh.write(NOTICE)
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(COLUMNS)
        for code in sorted(codes, key=lambda c: (int(c.split("-")[0]), c)):
            row = table[code]
            writer.writerow([code, row["component"], row.get("long_common_name") or ""])
    print(f"{out}: {len(codes)} codes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
