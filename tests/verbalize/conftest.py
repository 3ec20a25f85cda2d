"""Session-wide tiny random models, saved to tmp and loaded by path like a user would."""

from pathlib import Path

import pytest

from .helpers import build_tiny_llava, build_tiny_whisper


@pytest.fixture(scope="session")
def tiny_llava(tmp_path_factory) -> Path:
    return build_tiny_llava(tmp_path_factory.mktemp("tiny_llava"))


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory) -> Path:
    return build_tiny_whisper(tmp_path_factory.mktemp("tiny_whisper"))
