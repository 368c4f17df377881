"""Operation modes: interactive (preview windows / stdin keys), headless, slave (JSON protocol)."""
