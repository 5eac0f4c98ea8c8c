"""Fixtures for end-to-end tests: a private app home that cleans up after itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.app_process import AppHome


@pytest.fixture
def app_home() -> Iterator[AppHome]:
    """A fresh app home; at teardown, quit the app and kill anything left, by pid."""
    home = AppHome.create()
    try:
        yield home
    finally:
        home.dispose()
