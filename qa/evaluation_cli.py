"""`qa eval`: placeholder wiring, filled in by the evaluation module."""
