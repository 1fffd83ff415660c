"""The sync engine: plan (pure), leases and state, the runner, and its events."""
