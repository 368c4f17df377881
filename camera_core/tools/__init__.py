"""The tools that work on recordings and rigs, above the running system: the self-test, `verify`,
the timing `report`, `recover`, and sync's proof (`synccheck`, `align`, `blink`). Each is a
`python -m camera_core <tool>` subcommand (cli.py lists them)."""
