"""Programs from the system's packages some tests drive for real (fish, the Secret Service, a desktop).

`tool("fish")` is the program's path. Where it is missing the test is skipped, unless
CI_REQUIRE_SYSTEM_TOOLS is set (as `.ci/run` sets it, after installing them): then it fails,
so a CI machine without them can never pass by skipping.
"""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRED = os.environ.get("CI_REQUIRE_SYSTEM_TOOLS", "") not in ("", "0")
# The Debian package each program comes from (what .ci/run installs).
PACKAGES = {
    "fish": "fish",
    "gnome-keyring-daemon": "gnome-keyring",
    "dbus-run-session": "dbus",
    "dbus-launch": "dbus-x11",
    "secret-tool": "libsecret-tools",
    "Xvfb": "xvfb",
    "zenity": "zenity",
    "xdotool": "xdotool",
    "setsid": "util-linux",
}


def tool(name: str) -> str:
    """The path of `name`; skip (or, with CI_REQUIRE_SYSTEM_TOOLS, fail) if it is not installed."""
    found = shutil.which(name)
    if found:
        return found
    why = f"{name} is not installed (Debian package {PACKAGES.get(name, name)})"
    if REQUIRED:
        pytest.fail(f"CI_REQUIRE_SYSTEM_TOOLS is set and {why}")
    pytest.skip(why)
