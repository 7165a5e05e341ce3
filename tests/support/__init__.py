"""Helpers shared by the tests, one module per job: see README.md in this folder.

Every module here is registered for pytest's assertion rewriting (before any is
imported), so a helper's failing `assert` explains itself as a test's would.
"""

import pkgutil

import pytest

pytest.register_assert_rewrite(*(f"{__name__}.{module.name}" for module in pkgutil.iter_modules(__path__)))
