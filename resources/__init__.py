"""Data shipped with ohvault (biomarker catalog, icons, LOINC subset), importable as the
package `ohvault.resources` (see pyproject.toml) so importlib.resources finds it in a
checkout, an installed wheel and the frozen app."""
