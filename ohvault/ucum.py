"""UCUM unit codes as a person reads them: ``10*3/uL`` -> ``10³/µL``, ``u[IU]/mL`` -> ``µIU/mL``.

The vault stores and exports UCUM; screens, the visit summary PDF and the CLI's text output show
:func:`display_unit`. A leaf module (no catalog, no parser) so that any screen can import it cheaply.
"""

from __future__ import annotations

import re
from functools import cache

_SUPER = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_UCUM_POWER = re.compile(r"10[*^](-?\d+)")
_MICRO = re.compile(r"(?<![A-Za-z])u(?=[A-Za-z\[])")
_ANNOTATION = re.compile(r"\{([^{}]*)\}")
_BRACKET = re.compile(r"\[([^\[\]]*)\]")
_AREA = re.compile(r"(?<![A-Za-z])(mm|cm|m)([23])(?![\d.])")
_PER_HOURS = re.compile(r"\((\d+)\.h\)")
# Units that are only a label: the number is the whole result (a ratio, an index, INR, pH).
UNITLESS = {"1", "{ratio}", "{index}", "{score}", "{INR}", "[pH]", "{Index_val}", "{titer}"}
# UCUM atoms whose code is not what anybody writes.
_SPECIAL = {"Cel": "°C", "Ao": "Å", "[degF]": "°F", "[lb_av]": "lb", "[in_i]": "in", "[ft_i]": "ft"}


@cache
def display_unit(ucum: str | None) -> str:
    """The unit as a person reads it: ``10*3/uL`` -> ``10³/µL``, ``u[IU]/mL`` -> ``µIU/mL``.

    Works for any UCUM code (and leaves free text that is not UCUM readable as it was typed);
    unit-less results (ratios, indices, INR, pH, specific gravity) show no unit at all.
    Storage, FHIR and JSON output keep the UCUM code; only screens, PDFs and CLI text use this.
    """
    if not ucum:
        return ""
    s = ucum.strip()
    if s in UNITLESS or _ANNOTATION.fullmatch(s):
        return ""
    if s in _SPECIAL:
        return _SPECIAL[s]
    s = _UCUM_POWER.sub(lambda m: "10" + m.group(1).translate(_SUPER), s)
    s = _MICRO.sub("µ", s)
    s = _PER_HOURS.sub(lambda m: f"{m.group(1)} h", s)
    # an annotation glued to a unit is a qualifier ("ng/mL{FEU}" -> "ng/mL FEU")
    s = _ANNOTATION.sub(
        lambda m: (
            ("" if m.start() == 0 or s[m.start() - 1] == "/" else " ")
            + m.group(1).replace("_", " ")
        ),
        s,
    )
    s = _BRACKET.sub(lambda m: m.group(1).replace("arb'U", "U").replace("'", " "), s)
    s = _AREA.sub(lambda m: m.group(1) + m.group(2).translate(_SUPER), s)
    s = s.replace("mosm", "mOsm").replace("meq", "mEq")
    return " ".join(s.split())
