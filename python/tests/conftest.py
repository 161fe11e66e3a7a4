import os
import shutil

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


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def find_cli():
    """The tilescale command-line program: $TILESCALE_CLI, else `tilescale` on PATH, else
    build/tilescale of this checkout; None when none exists."""
    for path in (os.environ.get("TILESCALE_CLI"), shutil.which("tilescale"), os.path.join(REPO, "build", "tilescale")):
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


@pytest.fixture
def tilescale_cli():
    cli = find_cli()
    if cli is None:
        pytest.skip("no tilescale command-line program: set TILESCALE_CLI, put it on PATH, or build build/tilescale")
    return cli
