"""`status PROFILE`: a profile's role session, its MFA session and the device's ledger (no secrets).

Read from the private cache only: nothing is asked of AWS.
"""

from __future__ import annotations

from typing import Any

from sts_mfa.session.handoff import iso8601


def describe(name: str, now: float, requested_endpoint: str | None) -> dict[str, Any]:
    from sts_mfa.files import cache
    from sts_mfa.mfa.ledger import Ledger
    from sts_mfa.session import cache as session_cache
    from sts_mfa.session import profiles
    from sts_mfa.session.source import SessionSource

    profile = profiles.load(name)
    root = cache.ensure(cache.root())
    role = cache.read_entry(
        session_cache.role_entry_path(
            root, name, profile.config_file, profile.credentials_file, requested_endpoint
        )
    )
    endpoint = requested_endpoint or SessionSource.profile_endpoint(profile)
    mfa = _mfa_sessions(root, profile.mfa_serial, endpoint, now)
    ledger = Ledger(root, endpoint, profile.mfa_serial).read()
    current = role is not None and role.get("fingerprint") == profile.fingerprint()
    return {
        "profile": name,
        "role_arn": profile.role_arn,
        "source_profile": profile.source_profile,
        "mfa_serial": profile.mfa_serial,
        "duration_seconds": profile.duration_seconds,
        "mfa_process": profile.mfa_process is not None,
        "cache_dir": root,
        "session": _session(role.get("session") if role else None, now, current=current),
        "mfa_sessions": mfa,
        "last_step": ledger.last_step,
    }


def _session(doc: Any, now: float, *, current: bool = True) -> dict[str, Any] | None:
    if not isinstance(doc, dict) or not isinstance(doc.get("expiration"), (int, float)):
        return None
    left = doc["expiration"] - now
    return {
        "access_key_id": doc.get("access_key_id"),
        "assumed_role_arn": doc.get("assumed_role_arn"),
        "expires": iso8601(doc["expiration"]),
        "remaining_seconds": max(0, int(left)),
        "valid": left > 0 and current,
    }


def _mfa_sessions(root: str, serial: str, endpoint: str | None, now: float) -> list[dict[str, Any]]:
    """Every cached MFA session for this device at this endpoint (one per source identity), and
    the roles it serves."""
    import os

    from sts_mfa.files import cache

    found = []
    for entry_file in sorted(os.listdir(root)):
        if not entry_file.startswith("mfa-") or not entry_file.endswith(".json"):
            continue
        entry = cache.read_entry(os.path.join(root, entry_file))
        if not entry or entry.get("serial") != serial or entry.get("endpoint") != endpoint:
            continue
        session = _session(entry.get("session"), now)
        if session is not None:
            roles = [r for r in entry.get("roles", []) if isinstance(r, str)]
            found.append({**session, "source_access_key_id": entry.get("source"), "serves": roles})
    return found


def render(data: dict[str, Any]) -> list[str]:
    lines = [
        f"Profile {data['profile']}: {data['role_arn'] or 'a user profile: its session is the MFA session'}",
        f"  source profile {data['source_profile']}, MFA device {data['mfa_serial']}"
        + (", codes from its mfa_process" if data["mfa_process"] else ""),
    ]
    s = data["session"]
    if s is None:
        lines.append("  No cached role session.")
    else:
        state = f"valid for {s['remaining_seconds']} s" if s["valid"] else "EXPIRED or for an older profile"
        lines.append(f"  Role session {s['access_key_id']}: expires {s['expires']} ({state})")
    if not data["mfa_sessions"]:
        lines.append("  No MFA session: the next role needs a code.")
    for m in data["mfa_sessions"]:
        state = f"valid for {m['remaining_seconds']} s" if m["valid"] else "EXPIRED"
        serves = ", ".join(m["serves"]) or "no role yet"
        lines.append(f"  MFA session {m['access_key_id']}: expires {m['expires']} ({state}); serves {serves}")
    if data["last_step"] is not None:
        lines.append(f"  Last TOTP time-step sent for this device: {data['last_step']}")
    lines.append(f"  Cache: {data['cache_dir']}")
    return lines
