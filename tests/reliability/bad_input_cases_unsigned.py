"""The bad-input table's cases for state files sts-mfa did not write, and `adopt`.

A state file sts-mfa did not sign (planted by a tarball or a clone, copied from another
cache directory, changed by hand, or left signed by a key that is gone) is refused with
exit 4 by every command, the cached-credentials answer included, until `sts-mfa adopt`
signs it. Each case is a row of `docs/bad-inputs.md` ("State files sts-mfa did not write").
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sts_mfa.state import signature
from sts_mfa.state.document import load
from tests.reliability.bad_input_bench import Bench, Case, Outcome, software, text, with_session

KEY = signature.KEY_FILE


def cache(b: Bench) -> Path:
    """The private cache directory the command under test uses (the test's own)."""
    return Path(b.env.get("STS_MFA_CACHE_DIR") or os.environ["STS_MFA_CACHE_DIR"])


def planted(b: Bench) -> None:
    """The finished setup's file, its signature removed: what a tarball or a clone would hold
    (a valid document, 0600, the user's own, with a usable cached session)."""
    doc = json.loads(b.cli.state.read_text())
    del doc[signature.FIELD]
    b.write(json.dumps(doc, indent=2))


def another_cache_directory(b: Bench) -> None:
    """The command runs with another STS_MFA_CACHE_DIR, which has a key of its own."""
    other = b.path("other-cache")
    signature.key_for_writing(str(other))
    b.env["STS_MFA_CACHE_DIR"] = str(other)


def cache_cleared(b: Bench) -> None:
    (cache(b) / KEY).unlink()


def key_open_to_others(b: Bench) -> None:
    (cache(b) / KEY).chmod(0o644)


def session_dropped_and_signed(b: Bench, result: Outcome) -> None:
    state = load(b.cli.state)  # signed with the test's key now: it loads
    assert state is not None and state.session is None
    assert "cached role session was discarded" in result.stdout


CASES = [
    Case(
        "state-planted",
        "a state file sts-mfa did not write: valid, 0600, yours, with a usable cached session",
        [],
        4,
        r"state file .* is not signed: sts-mfa did not write it.*`sts-mfa --state .* adopt`",
        (software, with_session, planted),
        runner="shell",  # the installed program: the cached-credentials answer comes before Click
        shell="{sts} assume --format process",
    ),
    Case(
        "state-tampered",
        "a signed state file with one value changed by hand (the session's expiry)",
        ["list-buckets"],
        4,
        r"was changed after sts-mfa wrote it",
        (software, with_session, text(lambda t: t.replace('"expiration": ', '"expiration": 1', 1))),
    ),
    Case(
        "state-other-cache-dir",
        "a state file signed under another `STS_MFA_CACHE_DIR`",
        [],
        4,
        rf"was signed with another key than .*/other-cache/{KEY}",
        (software, with_session, another_cache_directory),
        runner="shell",
        shell="{sts} assume --format process",
    ),
    Case(
        "signing-key-gone",
        "the private cache directory was cleared: the signing key is gone",
        ["check-deny"],
        4,
        rf"signed with a key that is gone: there is no .*/{KEY}.*every state file written before then "
        "needs adopting",
        (software, cache_cleared),
    ),
    Case(
        "signing-key-open-to-others",
        "the signing key is readable by others (mode 0644)",
        ["status"],
        4,
        rf"signing key .*/{KEY} is accessible by other users \(mode 0644\).*chmod 600",
        (software, key_open_to_others),
    ),
    Case(
        "adopt-invalid",
        "`adopt` of a file that is not a valid state file",
        ["adopt"],
        4,
        r"prefix: expected 'sts-mfa-' and 8 hex digits, got 'prod'",
        (
            text(
                json.dumps(
                    {
                        "version": 4,
                        "tool": "sts-mfa",
                        "prefix": "prod",
                        "iam_path": "/sts-mfa/",
                        "mode": "phone",
                    }
                )
            ),
        ),
    ),
    Case(
        "adopt-planted",
        "`adopt` of a planted state file with a cached session",
        ["adopt"],
        0,
        r"(?s)Adopted state file .*It was refused because it is not signed",
        (software, with_session, planted),
        changes_state=True,
        check=session_dropped_and_signed,
    ),
]
