"""What the app remembers: connection profiles, preferences (QSettings) and secrets (keyring)."""
