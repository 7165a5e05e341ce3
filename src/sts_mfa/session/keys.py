"""`sts-mfa keys add|list|remove|rotate`: a profile's long-term key in the OS keyring, and rotated.

`add` stores the key the AWS files hold for a profile in the OS keyring, reads it back, and
only then takes it out of the files (`sts_mfa.keys.aws_files`: every other byte kept), so
a keyring that fails changes no file; the section then says `sts_mfa_keys = keyring`, and
every sts-mfa client made for that profile gets its key from the keyring (`stored_keys`,
asked by `sts_mfa.aws.clients.Aws` when it makes a session). `remove` deletes the keyring's
entry and that line, and says where the profile's key comes from now. `rotate` makes a new
key, waits for STS to take it, stores it where the old one was, deletes the old one
(`sts_mfa.keys.rotation`), with the profile's MFA session when it has an `mfa_serial`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sts_mfa.errors import CredentialsError, UsageError
from sts_mfa.keys import aws_files
from sts_mfa.keys.places import KeyringPlace, keys_in, locate, marked_sections, sections_with_keys
from sts_mfa.keys.store import KeyringStore
from sts_mfa.session import profiles

if TYPE_CHECKING:
    from sts_mfa.aws.clients import Keys
    from sts_mfa.keys.rotation import Rotated
    from sts_mfa.session.source import CodeSources, SessionSource


def stored_keys(name: str, lock_dir: str) -> Keys | None:
    """The profile's key from the OS keyring, if its section says it is there; else None (botocore's)."""
    raw = profiles.all_profiles().get(name)
    if raw is None or aws_files.MARKER not in raw:
        return None
    config, creds = profiles.files()
    place = locate(name, config, creds, lock_dir)
    return place.read() if isinstance(place, KeyringPlace) else None


@dataclass
class Added:
    profile: str
    access_key_id: str
    backend: str
    sections: list[str] = field(default_factory=list)  # where the key was taken out
    already: bool = False


def add(name: str, lock_dir: str, store: KeyringStore | None = None) -> Added:
    _known(name)
    config, creds = profiles.files()
    in_files = sections_with_keys(name, config, creds)
    marked = marked_sections(name, config, creds)
    store = store or KeyringStore()
    if not in_files:
        if marked:
            keys = KeyringPlace(store, name).read()
            return Added(name, keys.access_key_id, store.backend_name, already=True)
        raise CredentialsError(f"profile {name} has no access key in {creds} or {config} to move")
    keys = keys_in(in_files[0])
    edits = []
    for i, section in enumerate(in_files):
        changes: dict[str, str | None] = dict.fromkeys(aws_files.KEY_OPTIONS)
        if i == 0 and not marked:
            changes[aws_files.MARKER] = aws_files.IN_KEYRING
        aws_files.check_edit(section, changes)  # an unsafe file, or an edit that would change more: now
        edits.append((section, changes))
    store.write(name, keys)  # read back too: a keyring that fails stops here, no file changed
    for section, changes in edits:
        aws_files.edit(section, changes, lock_dir)
    return Added(name, keys.access_key_id, store.backend_name, [str(s) for s in in_files])


def listing(store: KeyringStore | None = None) -> list[dict[str, Any]]:
    """Every profile whose section sends sts-mfa to the keyring, and what the keyring holds (no secret)."""
    store = store or KeyringStore()
    found = []
    for name, raw in sorted(profiles.all_profiles().items()):
        if aws_files.MARKER not in raw:
            continue
        try:
            keys = store.read(name)
            status, key_id = (
                ("in the keyring", keys.access_key_id) if keys else ("MISSING from the keyring", None)
            )
        except CredentialsError as e:
            if "is not an access key sts-mfa stored" not in e.message:
                raise  # locked, absent, not answering: one line, exit 6
            status, key_id = "NOT an access key sts-mfa stored", None
        found.append({"profile": name, "access_key_id": key_id, "status": status})
    return found


@dataclass
class Removed:
    profile: str
    deleted: str | None  # the access key id of the keyring's entry ("" if it was not sts-mfa's), None: none
    unmarked: list[str]  # sections whose `sts_mfa_keys` line went
    now_from: str | None  # where the profile's key is now


def remove(name: str, lock_dir: str, store: KeyringStore | None = None) -> Removed:
    config, creds = profiles.files()
    marked = marked_sections(name, config, creds)
    store = store or KeyringStore()
    try:
        held = store.read(name)
    except CredentialsError as e:
        if "is not an access key sts-mfa stored" not in e.message:
            raise
        held = None
    deleted = (held.access_key_id if held else "") if store.delete(name) else None
    if deleted is None and not marked:
        raise CredentialsError(f"profile {name} has no key in the OS keyring")
    for section in marked:
        aws_files.edit(section, {aws_files.MARKER: None}, lock_dir)
    in_files = sections_with_keys(name, config, creds)
    return Removed(name, deleted, [str(s) for s in marked], str(in_files[0]) if in_files else None)


def rotate(source: SessionSource, name: str, codes: CodeSources, timeout: float) -> Rotated:
    from sts_mfa.aws.clients import Keys
    from sts_mfa.keys.iam_account import IamAccount
    from sts_mfa.keys.journal import Journal
    from sts_mfa.keys.rotation import rotate as rotate_key
    from sts_mfa.session.model import Settings

    raw = _known(name)
    if str(raw.get("role_arn") or "").strip():
        raise UsageError(
            f"profile {name} assumes a role: the key to rotate is its source profile's "
            f"({str(raw.get('source_profile') or '?').strip()})"
        )
    config, creds = profiles.files()
    journal = Journal(source.cache_root(), name, creds)
    journal.read()  # a hostile journal is refused before anything is asked of AWS
    place = locate(name, config, creds, source.cache_root())
    stored = place.read()
    region = source.config.region or str(raw.get("region") or "").strip() or "us-east-1"
    endpoint = source.effective_endpoint() or _endpoint(raw, name)
    aws = source.clients_in(region, endpoint)
    user = _user_of(aws, stored, name)
    mfa = bool(str(raw.get("mfa_serial") or "").strip())
    iam_keys = stored
    if mfa:  # a user profile: IAM with its MFA session (a code if none is cached)
        sessions = source.profile_sessions(name, Settings.of(False, None))
        found, _ = sessions.mfa_session(codes.for_profile(sessions.profile))
        iam_keys = Keys(found.access_key_id, found.secret_access_key, found.session_token)
    report = source.hooks.report
    account = IamAccount(aws, iam_keys, user, mfa=mfa, clock=source.clock, timeout=timeout, report=report)
    return rotate_key(user, place, account, journal, source.clock.now, report)


def _known(name: str) -> dict[str, Any]:
    raw = profiles.all_profiles().get(name)
    if raw is None:
        raise CredentialsError(
            f"The config profile ({name}) could not be found",
            hint="list them with `aws configure list-profiles`; check AWS_CONFIG_FILE",
        )
    return raw


def _endpoint(raw: dict[str, Any], name: str) -> str | None:
    from sts_mfa.aws.endpoints import normalize

    value = str(raw.get("endpoint_url") or "").strip()
    if not value:
        return None
    try:
        return normalize(value)
    except UsageError as e:
        raise UsageError(f"profile {name}: endpoint_url: {e}") from None


def _user_of(aws: Any, keys: Keys, name: str) -> str:
    """The IAM user the key belongs to (GetCallerIdentity: no permission needed)."""
    from sts_mfa.aws.errors import translate_errors

    with translate_errors(f"profile {name}: GetCallerIdentity with its key"):
        arn = str(aws.sts_with(keys).get_caller_identity()["Arn"])
    parts = arn.split(":", 5)
    if len(parts) < 6 or not parts[5].startswith("user/"):
        raise CredentialsError(f"profile {name}'s key is not an IAM user's ({arn[:120]})")
    return parts[5].rsplit("/", 1)[-1]
