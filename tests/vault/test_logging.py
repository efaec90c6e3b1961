from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from ohvault import logs
from ohvault.keys.wrap import KdfParams


def test_redaction_strikes_registered_names_dates_values_and_emails() -> None:
    logs.register_sensitive("Hilda Synthetic")
    text = logs.redact(
        "profile Hilda Synthetic born 1970-03-04 glucose 5.4 mail hilda@example.org 12/05/2020"
    )
    assert "Hilda" not in text and "1970" not in text and "5.4" not in text
    assert "example.org" not in text and "12/05/2020" not in text
    assert text.count(logs.REDACTED) == 5


def test_log_file_is_private_and_json_lines_are_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "_configured", False)
    monkeypatch.setenv("OHVAULT_LOG_JSON", "1")
    root = logging.getLogger("ohvault")
    saved = list(root.handlers)
    try:
        path = logs.setup_logging(directory=tmp_path)
        try:
            raise ValueError("value 6.1 for 1999-01-01")
        except ValueError:
            logging.getLogger("ohvault.x").exception("import failed at %s", "2024-02-02")
        for h in root.handlers:
            h.flush()
        line = json.loads(path.read_text().splitlines()[-1])
        assert "2024-02-02" not in line["message"] and "6.1" not in line["message"]
        assert "ValueError" in line["message"] and "test_logging.py:" in line["message"]
        assert oct(path.stat().st_mode)[-3:] == "600"
    finally:
        for h in root.handlers:
            if h not in saved:
                root.removeHandler(h)


def test_default_kdf_is_memory_hard() -> None:
    params = KdfParams()
    assert params.memory_kib >= KdfParams.MIN_MEMORY_KIB == 64 * 1024
    assert params.iterations >= 3
