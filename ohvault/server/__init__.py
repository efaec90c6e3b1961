"""The reference sync server: stores encrypted bundles it cannot read.

Run it with `ohvault serve`. It keeps no state of its own beyond the database
(SQLite by default, PostgreSQL for several instances behind a load balancer).
"""
