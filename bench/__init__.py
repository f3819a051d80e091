"""Doorstep benchmarks: ``.venv/bin/python bench/run.py [--quick]`` (see bench/README.md)."""
