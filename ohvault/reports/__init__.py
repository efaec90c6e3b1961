"""Reports computed from the vault without Qt: trend series, the dashboard, charts, the visit summary.

The GUI adapts these to widgets; the CLI (`ohvault summary`) and the benchmarks use them directly.
"""
