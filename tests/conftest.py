"""Shared test helpers: where the fixtures are, and parsing them."""

from __future__ import annotations

from pathlib import Path

import pytest

from logdoctor.parsing import parse_chunks, parse_path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture_path(relative: str) -> Path:
    return FIXTURES / relative


def logs(folder: str) -> list[Path]:
    """Every ``.log`` fixture in ``fixtures/<folder>``, sorted."""
    return sorted((FIXTURES / folder).glob("*.log"))


def parse_fixture(relative: str, parser: str = "auto"):
    return parse_path(str(FIXTURES / relative), parser)


def parse_text(text: str | bytes, parser: str = "auto"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_chunks([data], parser)


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
