"""The lab parser's modules after the split along its seams (issue 14 point 4): the public names
stay where callers import them, and the word lists are data shipped under resources/labs."""

from __future__ import annotations

import json

from ohvault import paths


def test_public_names_are_still_importable_from_the_parser() -> None:
    from ohvault.labs import parser, resolve, results

    assert parser.ParsedResult is results.ParsedResult
    assert parser.ParsedReport is results.ParsedReport
    assert parser.UnmatchedRow is results.UnmatchedRow
    assert parser.CONFIDENT == results.CONFIDENT == 0.8
    assert parser.dedupe_results is resolve.dedupe_results
    assert callable(parser.parse_pdf)


def test_word_lists_are_data_in_resources() -> None:
    from ohvault.labs import words

    path = paths.resources_dir() / "labs" / "words.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert frozenset(data["prose_words"]) == words.PROSE_WORDS
    assert frozenset(data["method_words"]) == words.METHOD_WORDS
    assert words.SEX_WORDS["ferfi"] == "M" and words.SEX_WORDS["no"] == "F"
    assert "in range" in words.STATUS_LABELS and "serum" in words.SPECIMEN_WORDS
    # every label kind is indexed; the longest label bounds the search on a line
    assert set(words.LABEL_INDEX.values()) == set(data["meta_labels"])
    assert max(len(k.split()) for v in data["meta_labels"].values() for k in v) == words.MAX_LABEL


def test_metadata_reads_labels_the_word_list_names() -> None:
    from ohvault.labs.layout import Line, Word
    from ohvault.labs.metadata import find_labels, read_metadata, scan_sex

    def line(text: str, top: float) -> Line:
        ws, x = [], 40.0
        for t in text.split():
            ws.append(Word(t, x, x + 6 * len(t), top, top + 9, 9))
            x += 6 * len(t) + 2  # a word space, not a column gap
        return Line(ws, 1)

    lines = [
        line("Példa Labor Kft.", 40),
        line("Name: Mira Synthetic", 60),
        line("Sex: Female", 75),
        line("Collected: 2024.04.15", 90),
    ]
    assert [lab.kind for lab in find_labels(lines[3])] == ["collected"]
    assert scan_sex(lines) == "F"
    meta = read_metadata(lines, lines, "DMY")
    assert (meta.name, str(meta.collected), meta.lab) == (
        "Mira Synthetic",
        "2024-04-15",
        "Példa Labor Kft.",
    )
