from __future__ import annotations

import pytest

from ohvault.errors import BadInput
from ohvault.keys import recovery


def test_generated_key_round_trips_and_is_grouped() -> None:
    text = recovery.generate()
    groups = text.split("-")
    assert len(groups) == 9 and all(len(g) == 4 for g in groups)
    assert len(recovery.parse(text)) == recovery.DATA_BYTES


def test_parse_tolerates_case_spaces_and_confusable_letters() -> None:
    data = bytes(range(20))
    text = recovery.format_key(data)
    sloppy = text.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert recovery.parse(sloppy) == data


@pytest.mark.parametrize("position", [0, 7, 20, 35])
def test_single_character_typo_is_caught_by_checksum(position: int) -> None:
    text = recovery.format_key(bytes(range(20))).replace("-", "")
    wrong = "Z" if text[position] != "Z" else "Y"
    typo = text[:position] + wrong + text[position + 1 :]
    with pytest.raises(BadInput, match=r"typo|cannot contain"):
        recovery.parse(typo)


def test_wrong_length_is_explained() -> None:
    with pytest.raises(BadInput, match="36 characters"):
        recovery.parse("ABCD-EFGH")


def test_distinct_keys_are_random() -> None:
    assert len({recovery.generate() for _ in range(50)}) == 50
