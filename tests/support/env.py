"""The environment a test runs in: nothing of this machine's AWS or sts-mfa setup gets in.

- In-process: `scrub_environ` removes every AWS_*, STS_MFA_* and _STS_MFA_* variable from
  this process and sets the given ones. The autouse `aws_env` fixture (tests/conftest.py)
  runs it for every test with `fake_credentials`; `exactly(env)` runs it for a block, to
  run a command in-process in the environment a subprocess would get.
- For a subprocess: `subprocess_env` is this process's environment without those
  variables, with plain output, and (given a `home`) no AWS file or instance metadata to read.
- Both get `private_cache(home)`: sts-mfa's private cache (profile sessions, the TOTP ledger
  every state file shares) in the test's own home, never the machine's ~/.cache/sts-mfa,
  and STS_MFA_NO_PROMPT=1, so no test waits on the terminal pytest was started from. A
  test that plays the person at a terminal (a pseudo-terminal) removes it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

# _STS_MFA_COMPLETE is Click's completion switch: left set, it turns any run into a completion.
SCRUBBED_PREFIXES = ("AWS_", "STS_MFA_", "_STS_MFA_")

# Never the desktop or the keyring of the machine the tests run on: a test that wants a display
# (`tests.support.desktop`) or a Secret Service (`tests.support.secret_service`) brings its own.
NOT_THIS_MACHINES = ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND")

# No colour, no terminal tricks, lines wide enough not to wrap a message a test looks for.
PLAIN_OUTPUT = {"NO_COLOR": "1", "COLUMNS": "200", "TERM": "dumb"}


def cache_dir(home: Path) -> Path:
    """The private cache of an environment made for `home` (its key signs the state files)."""
    return home / "sts-mfa-cache"


def private_cache(home: Path) -> dict[str, str]:
    """The private cache (sessions, the TOTP ledger, the state files' signing key) in the test's
    own home, and never a prompt on the terminal pytest may have been started from (a test that
    wants one says so)."""
    return {"STS_MFA_CACHE_DIR": str(cache_dir(home)), "STS_MFA_NO_PROMPT": "1"}


def scrub_environ(mp: pytest.MonkeyPatch, values: Mapping[str, str]) -> None:
    """Remove every AWS/sts-mfa variable from this process (undone with `mp`), then set `values`."""
    for var in list(os.environ):
        if var.startswith(SCRUBBED_PREFIXES):
            mp.delenv(var)
    for var, value in values.items():
        mp.setenv(var, value)


def fake_credentials(home: Path) -> dict[str, str]:
    """Every test's own environment: fake keys set before any client exists, a region, AWS
    files in `home` (which do not exist), plain output."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        **private_cache(home),
        **PLAIN_OUTPUT,
    }


@contextmanager
def exactly(env: Mapping[str, str]) -> Iterator[None]:
    """For the block, this process's AWS and sts-mfa variables are exactly `env`'s (its others set too)."""
    with pytest.MonkeyPatch.context() as mp:
        scrub_environ(mp, env)
        yield


def subprocess_env(home: Path | None = None, **extra: str) -> dict[str, str]:
    """This machine's environment minus every AWS/sts-mfa setting, with plain output, for a subprocess.

    With `home`, no real AWS config or credentials file, and no instance metadata, can be
    read either. Nor a display or a session bus (a desktop dialog, the keyring). `extra` is set last.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(SCRUBBED_PREFIXES) and k not in NOT_THIS_MACHINES
    }
    env.update(PLAIN_OUTPUT)
    if home is not None:
        env.update(
            HOME=str(home),
            AWS_CONFIG_FILE=str(home / "no-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / "no-credentials"),
            AWS_EC2_METADATA_DISABLED="true",
            **private_cache(home),
        )
    env.update(extra)
    return env
