"""The README stays true: the configuration table matches the settings classes."""

from __future__ import annotations

from pathlib import Path

from doorstep_tools.envdoc import END, START, table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_configuration_table_matches_the_settings() -> None:
    text = README.read_text()
    documented = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert documented == table().strip(), "run: python -m doorstep_tools.envdoc --write README.md"


def test_readme_shows_the_two_commands() -> None:
    text = README.read_text()
    assert "make run" in text
    assert "make test" in text
