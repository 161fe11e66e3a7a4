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
    """The tilescale command-line program: $TILESCALE_CLI, else `tilescale` on PATH, else ./tilescale
    (scripts/test.sh runs pytest in the build folder), else build/tilescale of this checkout; None
    when none exists."""
    for path in (os.environ.get("TILESCALE_CLI"), shutil.which("tilescale"), os.path.join(os.getcwd(), "tilescale"),
                 os.path.join(REPO, "build", "tilescale")):
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


@pytest.fixture
def tilescale_cli():
    cli = find_cli()
    if cli is None:
        pytest.skip("no tilescale command-line program: set TILESCALE_CLI, put it on PATH, or build build/tilescale")
    return cli


@pytest.fixture
def torch_cuda():
    """torch, where kernels can run on CUDA with torch tensors; else the test is skipped, saying why."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    if not tilescale.torch_cuda_available():
        pytest.skip(f"no CUDA for torch and tilescale here: {tilescale.why_not_cuda() or 'torch sees no CUDA device'}")
    return torch


@pytest.fixture
def child_env():
    """The environment for a child process: this one's, tilescale importable the way it is here, and
    NVLink multicast off (ARCHITECTURE.md: it can take the shared GPU hosts out of service)."""
    env = dict(os.environ)
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(tilescale.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    env["NVSHMEM_DISABLE_NVLS"] = "1"
    env["NCCL_NVLS_ENABLE"] = "0"
    return env
