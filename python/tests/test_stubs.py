"""The build makes type stubs for the C++ module (nanobind's stubgen) and the package says it is typed."""
import os

import tilescale


def test_stub_is_beside_the_module_and_types_compile():
    here = os.path.dirname(tilescale._C.__file__)
    with open(os.path.join(here, "_tilescale.pyi")) as f:
        stub = f.read()
    assert "def compile(" in stub and "class Kernel" in stub


def test_package_is_marked_typed():
    assert os.path.exists(os.path.join(os.path.dirname(tilescale.__file__), "py.typed"))
