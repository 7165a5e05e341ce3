"""The bad-input table's key cases: the credentials file, the keyring, the rotation journal, hostile.

A user profile `alice` (an mfa_serial, her key in the credentials file, or moved to the
keyring: `sts_mfa_keys = keyring`) and a keyring chosen by PYTHON_KEYRING_BACKEND among the
test backends of `tests.support.keyrings` (a file several processes share, one locked, one
that never answers, one that refuses to store). Every case runs the program in a process of
its own (keyring keeps the backend it found for the life of a process). Each case is a row of
`docs/bad-inputs.md` (the section "Keys: the credentials file, the keyring, the rotation journal").
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from sts_mfa.keys.journal import Journal
from tests.reliability.bad_input_bench import Bench, Case, Outcome, Prepare, env
from tests.support.keyrings import FILE_VARIABLE, environment

SERIAL = "arn:aws:iam::111111111111:mfa/alice"
KEY_ID = "AKIAEXAMPLEALICE0001"
SECRET = "not/the+secret+of+anyone+at+all+0000000"
KEYS = f"[alice]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
MARKED = "[alice]\nsts_mfa_keys = keyring\n"


def files(
    credentials: str = KEYS, backend: str = "FileKeyring", entry: str | None = None, config: str = ""
) -> Prepare:
    """alice's config (`config` more lines), this credentials file, the test keyring `backend`
    (holding `entry` for alice)."""

    def prepare(b: Bench) -> None:
        path, creds, keyring = b.path("config"), b.path("credentials"), b.path("keyring.json")
        path.write_text(f"[profile alice]\nmfa_serial = {SERIAL}\nregion = us-east-1\n{config}")
        creds.write_text(credentials)
        keyring.write_text(json.dumps({"sts-mfa/alice": entry} if entry is not None else {}))
        b.env.update({"AWS_CONFIG_FILE": str(path), "AWS_SHARED_CREDENTIALS_FILE": str(creds)})
        b.env.update(environment(backend, **{FILE_VARIABLE: str(keyring)}))
        b.saved["before"] = {p.name: p.read_bytes() for p in (path, creds, keyring)}

    return prepare


def credentials_replaced(kind: str) -> Prepare:
    """The credentials file as something else; the real one, with alice's key, beside it."""

    def prepare(b: Bench) -> None:
        creds, real = b.path("credentials"), b.path("real-credentials")
        real.write_text(KEYS)
        creds.unlink()
        if kind == "symlink":
            creds.symlink_to(real)
        elif kind == "fifo":
            os.mkfifo(creds)
        else:
            creds.write_text(KEYS + "# padding\n" * 200_000)
        b.saved["real"] = real.read_bytes()

    return prepare


def nothing_changed(b: Bench, _: Outcome) -> None:
    """No file of the case changed, and the keyring holds nothing new."""
    for name, before in b.saved["before"].items():
        path = b.path(name)
        if path.is_file() and not path.is_symlink() and name != "credentials":
            assert path.read_bytes() == before, f"{name} changed"
    creds = b.path("credentials")
    if creds.is_file() and not creds.is_symlink() and creds.stat().st_size < 1 << 20:
        assert creds.read_bytes() == b.saved["before"]["credentials"], "the credentials file changed"
    if "real" in b.saved:
        assert b.path("real-credentials").read_bytes() == b.saved["real"]


def no_secret_of_the_keyring(b: Bench, result: Outcome) -> None:
    nothing_changed(b, result)
    assert "garbage" not in result.output and "spaces in" not in result.output


def journal(document: object, *, link: bool = False) -> Prepare:
    """A rotation journal for alice in the test's private cache: this document, or a symlink."""

    def prepare(b: Bench) -> None:
        path = Path(Journal(os.environ["STS_MFA_CACHE_DIR"], "alice", str(b.path("credentials"))).path)
        if link:
            path.symlink_to(b.path("credentials"))
        else:
            path.write_text(json.dumps(document))
            path.chmod(0o600)
        b.cleanup.append(lambda: path.unlink(missing_ok=True))

    return prepare


GOOD_JOURNAL = {"version": 1, "profile": "alice", "user": "alice", "old": KEY_ID, "new": None, "started": 0}


def rotate_cases() -> list[Case]:
    hostile = {
        "rotation-journal-hostile-key": (
            {**GOOD_JOURNAL, "new": "../../etc/passwd"},
            "a key in it is not",
            "a path where an access key id should be",
        ),
        "rotation-journal-other-profile": (
            {**GOOD_JOURNAL, "profile": "bob"},
            "it is for another profile",
            "another profile's",
        ),
        "rotation-journal-not-json": ("{not json", "it is not JSON of this sts-mfa's version", "not JSON"),
    }
    cases = [
        Case(
            case_id,
            f"a rotation journal that is not sts-mfa's ({what}), `keys rotate`",
            [],
            4,
            rf"rotation journal .*rotation-[0-9a-f]+\.json is not one sts-mfa wrote \({re.escape(why)}",
            (files(), journal(document) if not isinstance(document, str) else _raw_journal(document)),
            runner="shell",
            shell="{sts} keys rotate alice",
            check=nothing_changed,
        )
        for case_id, (document, why, what) in hostile.items()
    ]
    cases.append(
        Case(
            "rotation-journal-symlink",
            "the rotation journal is a symbolic link, `keys rotate`",
            [],
            4,
            r"rotation-[0-9a-f]+\.json: it is a symbolic link",
            (files(), journal(None, link=True)),
            runner="shell",
            shell="{sts} keys rotate alice",
            check=nothing_changed,
        )
    )
    return cases


def _raw_journal(text: str) -> Prepare:
    def prepare(b: Bench) -> None:
        path = Path(Journal(os.environ["STS_MFA_CACHE_DIR"], "alice", str(b.path("credentials"))).path)
        path.write_text(text)
        path.chmod(0o600)
        b.cleanup.append(lambda: path.unlink(missing_ok=True))

    return prepare


def keyring_case(case_id: str, what: str, command: str, exit_code: int, says: str, *prepare: Prepare) -> Case:
    return Case(
        case_id,
        what,
        [],
        exit_code,
        says,
        prepare,
        runner="shell",
        shell=f"{{sts}} {command}",
        check=no_secret_of_the_keyring,
    )


ENTRY_SPACES = json.dumps({"aws_access_key_id": KEY_ID, "aws_secret_access_key": "spaces in it"})

CASES = [
    keyring_case(
        "keys-credentials-symlink",
        "the credentials file is a symbolic link, `keys add`",
        "keys add alice",
        4,
        r"the AWS credentials file .*credentials: it is a symbolic link",
        files(),
        credentials_replaced("symlink"),
    ),
    keyring_case(
        "keys-credentials-fifo",
        "the credentials file is a FIFO, `keys add`",
        "keys add alice",
        4,
        r"credentials is a FIFO \(named pipe\), not a regular file",
        files(),
        credentials_replaced("fifo"),
    ),
    keyring_case(
        "keys-credentials-huge",
        "the credentials file is 2 MB, `keys add`",
        "keys add alice",
        4,
        r"credentials is over 1048576 bytes: too big to be an AWS config file",
        files(),
        credentials_replaced("huge"),
    ),
    keyring_case(
        "keys-session-token",
        "a profile whose keys come with a session token (temporary), `keys add`",
        "keys add alice",
        2,
        r"holds a session token: temporary credentials, not a long-term access key",
        files(KEYS + "aws_session_token = temporary\n"),
    ),
    keyring_case(
        "keyring-entry-not-json",
        "the keyring's entry for the profile is not JSON, `assume PROFILE`",
        "assume alice",
        6,
        r"the OS keyring's entry for profile alice \(service sts-mfa\) is not an access key sts-mfa stored: "
        r"it is not the JSON object",
        files(MARKED, entry="garbage, maybe a password of someone's"),
    ),
    keyring_case(
        "keyring-entry-malformed-key",
        "the keyring's entry holds a secret that is not an access key's, `assume PROFILE`",
        "assume alice",
        6,
        r"is not an access key sts-mfa stored: its access key id or secret is malformed",
        files(MARKED, entry=ENTRY_SPACES),
    ),
    keyring_case(
        "keyring-locked",
        "the keyring is locked, `assume PROFILE`",
        "assume alice",
        6,
        r"tests\.support\.keyrings\.LockedKeyring is locked \(reading alice's key\)",
        files(MARKED, backend="LockedKeyring"),
    ),
    keyring_case(
        "keyring-never-answers",
        "the keyring never answers (an unlock prompt nobody sees), `assume PROFILE`",
        "assume alice",
        6,
        r"did not answer within 1 s \(reading alice's key\)",
        files(MARKED, backend="HangingKeyring"),
        env(STS_MFA_KEYRING_TIMEOUT="1"),
    ),
    keyring_case(
        "keyring-none",
        "no OS keyring at all (keyring's fail backend), `assume PROFILE`",
        "assume alice",
        6,
        r"no OS keyring is available",
        files(MARKED),
        env(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring"),
    ),
    keyring_case(
        "keyring-not-an-os-keyring",
        "keyring's config file picks a backend that is not an OS keyring (a file), `keys add`",
        "keys add alice",
        6,
        r"keyring picked tests\.support\.keyrings\.FileKeyring, which is not an OS keyring",
        files(),
        lambda b: keyringrc(b),  # noqa: PLW0108 - defined below, with the cases above it
    ),
    keyring_case(
        "keyring-refuses-to-store",
        "the keyring refuses to store the key, `keys add` (no file changes)",
        "keys add alice",
        6,
        r"failed \(storing alice's key\): PasswordSetError",
        files(backend="RefusingKeyring"),
    ),
    keyring_case(
        "keys-marker-and-key",
        "a profile with a key in the file and `sts_mfa_keys = keyring`, `assume PROFILE`",
        "assume alice",
        2,
        r"profile alice has a key in \[alice\] of .* and sts_mfa_keys = keyring in .*not sts-mfa's to guess",
        files(KEYS + "sts_mfa_keys = keyring\n"),
    ),
    keyring_case(
        "keys-marker-unknown",
        "`sts_mfa_keys` with a value sts-mfa does not know, `assume PROFILE`",
        "assume alice",
        2,
        r"sts_mfa_keys = 'vault'; the one value sts-mfa knows is keyring",
        files("[alice]\nsts_mfa_keys = vault\n"),
    ),
    keyring_case(
        "keyring-timeout-malformed",
        "STS_MFA_KEYRING_TIMEOUT that is not a number of seconds, `assume PROFILE`",
        "assume alice",
        2,
        r"STS_MFA_KEYRING_TIMEOUT must be a number of seconds, 0 to 3600, not 'soon'",
        files(MARKED),
        env(STS_MFA_KEYRING_TIMEOUT="soon"),
    ),
    *rotate_cases(),
    # --- the desktop prompt (`docs/bad-inputs.md`, "The desktop prompt") ---
    keyring_case(
        "prompt-unknown",
        "STS_MFA_PROMPT naming no way of asking, `assume PROFILE`",
        "assume alice",
        2,
        r"STS_MFA_PROMPT must be one of terminal, zenity, kdialog, osascript, none, not 'gui'",
        files(),
        env(STS_MFA_PROMPT="gui"),
    ),
    keyring_case(
        "prompt-profile-unknown",
        "a profile's `mfa_prompt` naming no way of asking, `assume PROFILE`",
        "assume alice",
        2,
        r"profile alice: mfa_prompt must be one of terminal, zenity, kdialog, osascript, none, not 'popup'",
        files(config="mfa_prompt = popup\n"),
    ),
    keyring_case(
        "prompt-timeout-malformed",
        "STS_MFA_PROMPT_TIMEOUT that is not a number of seconds, with a dialog named",
        "assume alice",
        2,
        r"STS_MFA_PROMPT_TIMEOUT must be a number of seconds above 0 and at most 3600",
        files(),
        env(STS_MFA_PROMPT="zenity", STS_MFA_PROMPT_TIMEOUT="-1"),
        lambda b: b.env.update({"STS_MFA_NO_PROMPT": None}),  # a person is there: the dialog would open
    ),
]


def keyringrc(b: Bench) -> None:
    """keyring's own config file (XDG_CONFIG_HOME/python_keyring/keyringrc.cfg), no variable set."""
    home = b.path("xdg")
    (home / "python_keyring").mkdir(parents=True)
    (home / "python_keyring" / "keyringrc.cfg").write_text(
        "[backend]\ndefault-keyring = tests.support.keyrings.FileKeyring\n"
    )
    b.env.update({"XDG_CONFIG_HOME": str(home), "PYTHON_KEYRING_BACKEND": None})
