"""The package's metadata: what setuptools builds from pyproject.toml, in the form it will keep accepting.

The build itself (`python -m build`, then `twine check --strict`) runs in CI in an
environment of its own (`.ci/run`); here the declaration is checked where it is made.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.licenses import canonicalize_license_expression
from packaging.requirements import Requirement

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

PYPROJECT = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())


def test_the_license_is_an_spdx_expression_not_a_table() -> None:
    """`license = {text = ...}` is deprecated by setuptools (builds refuse it from 2027)."""
    license_ = PYPROJECT["project"]["license"]
    assert isinstance(license_, str), f"project.license is {license_!r}: use the SPDX string form"
    assert canonicalize_license_expression(license_) == license_ == "Apache-2.0"
    assert not any(c.startswith("License ::") for c in PYPROJECT["project"].get("classifiers", []))


def test_the_build_asks_for_a_setuptools_that_reads_spdx_expressions() -> None:
    """setuptools reads `license = "SPDX"` from version 77 on (PEP 639)."""
    [setuptools] = [
        Requirement(r) for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")
    ]
    assert "76.9" not in setuptools.specifier and "77.0.0" in setuptools.specifier
