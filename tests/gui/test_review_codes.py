"""The import review's correction stores the LOINC code of the unit's property (one rule, in the
core: ohvault.mappings.read_as), not the analyte's primary code."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ohvault.errors import BadInput
from ohvault.gui.pdf_review import EditRowDialog
from ohvault.labs.parser import ParsedResult


def _unmapped(printed: str, value: float, unit: str) -> ParsedResult:
    return ParsedResult(
        name=None, printed_name=printed, loinc=None, value=value, value_num=value,
        comparator=None, unit=unit, unit_ucum=None, value_canonical=None, unit_canonical=None,
        ref_low=None, ref_high=None, ref_text=None, flag=None, date=date(2025, 2, 3), page=1,
        bbox=(0, 0, 1, 1), confidence=0.5, category=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value", "unit", "code"),
    [
        ("Glucose", "5.4", "mmol/L", "14749-6"),  # molar unit: the molar code
        ("Glucose", "97", "mg/dL", "2345-7"),
        ("Hemoglobin A1c", "42", "mmol/mol", "59261-8"),
        ("Glucose, fasting", "5,1", "mmol/l", "14771-0"),  # a printed spelling of the unit
    ],
)
def test_a_corrected_row_gets_the_code_of_its_unit(
    qtbot: Any, name: str, value: str, unit: str, code: str
) -> None:
    dialog = EditRowDialog(None, _unmapped("Sugar (enzymatic)", 1.0, "?"))
    qtbot.addWidget(dialog)
    dialog.name.setText(name)
    dialog.value.setText(value)
    dialog.unit.setText(unit)
    edited = dialog.build()
    assert (edited.name, edited.loinc, edited.confidence) == (name, code, 1.0)
    assert edited.value_canonical is not None and edited.unit_canonical in ("mg/dL", "%")


def test_a_correction_with_a_unit_the_test_never_has_is_refused(qtbot: Any) -> None:
    dialog = EditRowDialog(None, _unmapped("Sugar (enzymatic)", 1.0, "?"))
    qtbot.addWidget(dialog)
    dialog.name.setText("Glucose")
    dialog.value.setText("5.4")
    dialog.unit.setText("U/L")
    with pytest.raises(BadInput, match="not a unit"):
        dialog.build()
