"""Fixtures for every test: the database backends, the test signing key, tokens."""

from __future__ import annotations

import pytest

from doorstep_shared.tokens import SigningKey

from .support import BACKENDS, Tokens


@pytest.fixture(scope="session", params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    """Parametrises every storage test over SQLite and (when configured) PostgreSQL."""
    return str(request.param)


@pytest.fixture(scope="session")
def tokens() -> Tokens:
    return Tokens(SigningKey.generate("test-key-1"))
