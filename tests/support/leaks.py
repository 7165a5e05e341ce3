"""Secret scanning: what secrets a state file holds, and which of them a text shows."""

from __future__ import annotations

import json
import re
from pathlib import Path


def state_secrets(path: Path) -> dict[str, str]:
    """Every secret the state file holds, by name (empty if there is no file)."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    found: dict[str, str] = {}
    if data.get("seed"):
        found["seed"] = data["seed"]
    if data.get("access_key"):
        found["user secret key"] = data["access_key"]["secret_access_key"]
    if data.get("session"):
        found["session secret key"] = data["session"]["secret_access_key"]
        found["session token"] = data["session"]["session_token"]
    return found


def leaked(text: str, secrets: dict[str, str]) -> list[str]:
    """Names of the secrets that appear in `text` (also with whitespace or escapes removed)."""
    flat = re.sub(r"\s+", "", text)
    return sorted(name for name, value in secrets.items() if value and (value in text or value in flat))
