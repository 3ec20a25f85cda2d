"""Test-wide settings: everything offline, small thread pools for the 2-core CI machine."""

import atexit
import os
import shutil
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
# datasets' cache of this run only: a user's cache neither serves the tests stale entries nor fills up with theirs
os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp(prefix="hf-behavior-tests-datasets-")
atexit.register(shutil.rmtree, os.environ["HF_DATASETS_CACHE"], ignore_errors=True)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import pytest  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    """A run that collected no test is a failure, not a green build."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
