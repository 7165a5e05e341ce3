"""Where a profile's long-term key is kept: the OS keyring, or the AWS files (and which section).

`locate` answers from the files themselves: the section that says `sts_mfa_keys = keyring`
sends sts-mfa to the keyring; a section with `aws_access_key_id` and
`aws_secret_access_key` is where botocore finds the key (the credentials file's first).
A profile with both is refused: which of two keys is meant is not sts-mfa's to guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from sts_mfa.aws.clients import Keys
from sts_mfa.errors import CredentialsError, UsageError
from sts_mfa.keys.aws_files import (
    IN_KEYRING,
    KEY_OPTIONS,
    MARKER,
    TOKEN_OPTION,
    Section,
    edit,
    read_options,
    sections_of,
)
from sts_mfa.keys.store import KeyringStore, check_keys


@dataclass
class KeyringPlace:
    store: KeyringStore
    profile: str

    @property
    def where(self) -> str:
        return f"the OS keyring ({self.store.backend_name})"

    def read(self) -> Keys:
        found = self.store.read(self.profile)
        if found is None:
            raise CredentialsError(
                f"profile {self.profile}'s key should be in the OS keyring ({MARKER} = {IN_KEYRING}), "
                "and the keyring has none",
                hint=f"`sts-mfa keys remove {self.profile}` takes the {MARKER} line away",
            )
        return found

    def write(self, keys: Keys) -> None:
        self.store.write(self.profile, keys)


@dataclass
class FilePlace:
    sections: list[Section]  # every section holding the key; the first is botocore's
    lock_dir: str

    @property
    def where(self) -> str:
        return str(self.sections[0])

    def read(self) -> Keys:
        return keys_in(self.sections[0])

    def write(self, keys: Keys) -> None:
        for section in self.sections:
            changes: dict[str, str | None] = {
                "aws_access_key_id": keys.access_key_id,
                "aws_secret_access_key": keys.secret_access_key,
            }
            edit(section, changes, self.lock_dir)


def keys_in(section: Section) -> Keys:
    options = read_options(section) or {}
    found = Keys(
        options.get("aws_access_key_id", "").strip(),
        options.get("aws_secret_access_key", "").strip(),
        options.get(TOKEN_OPTION, "").strip() or None,
    )
    return check_keys(found, str(section))


def sections_with_keys(profile: str, config: str, credentials: str) -> list[Section]:
    return [
        s for s in sections_of(profile, config, credentials) if set(KEY_OPTIONS) & set(read_options(s) or {})
    ]


def marked_sections(profile: str, config: str, credentials: str) -> list[Section]:
    return [s for s in sections_of(profile, config, credentials) if MARKER in (read_options(s) or {})]


def locate(profile: str, config: str, credentials: str, lock_dir: str) -> KeyringPlace | FilePlace:
    """Where `profile`'s key is (see the module docstring)."""
    in_files = sections_with_keys(profile, config, credentials)
    marked = marked_sections(profile, config, credentials)
    if marked:
        value = (read_options(marked[0]) or {}).get(MARKER, "").strip()
        if value != IN_KEYRING:
            raise UsageError(
                f"{marked[0]}: {MARKER} = {value[:40]!r}; the one value sts-mfa knows is {IN_KEYRING}"
            )
        if in_files:
            raise UsageError(
                f"profile {profile} has a key in {in_files[0]} and {MARKER} = {IN_KEYRING} in {marked[0]}: "
                "which one is meant is not sts-mfa's to guess",
                hint=f"`sts-mfa keys add {profile}` moves the file's key into the keyring",
            )
        return KeyringPlace(KeyringStore(), profile)
    if in_files:
        return FilePlace(in_files, lock_dir)
    raise CredentialsError(
        f"profile {profile} has no access key in {credentials} or {config}, nor {MARKER} = {IN_KEYRING}",
        hint="`sts-mfa keys list` shows the profiles whose keys are in the keyring",
    )


def is_in_keyring(raw: dict[str, object]) -> bool:
    """Whether botocore's merged view of a profile sends sts-mfa to the keyring (cheap: no file read)."""
    return MARKER in raw
