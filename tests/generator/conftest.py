"""One small generated sample shared by the generator tests (generating takes about a second)."""

from __future__ import annotations

import pytest
from generator_sample import Sample, make_sample


@pytest.fixture(scope="session")
def sample(tmp_path_factory) -> Sample:
    return make_sample(tmp_path_factory.mktemp("sample"))
