"""Registered benchmark figures, one module per area (see bench/harness.py)."""
