"""Key material: the data key, its wraps (passphrase, recovery key) and the OS keychain."""
