"""Use cases, one module per feature. Each function takes keyword arguments, a unit of work (bot/domain/ports.py)
and the current time, and commits once."""
