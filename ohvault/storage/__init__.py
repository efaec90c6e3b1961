"""Storage: the SQLCipher database, its schema migrations, queries, audit log and backups."""
