import numpy as np
import pytest

import tilescale


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a CUDA device (skipped, with the reason, without one)")


def pytest_collection_modifyitems(config, items):
    reason = tilescale.why_not_cuda()
    if reason:
        skip = pytest.mark.skip(reason=f"no CUDA target here: {reason}")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
