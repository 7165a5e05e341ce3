"""A usable role session for a profile: the private cache, the shared ledger, the MFA session.

`ProfileSessions.get` is the profile-mode twin of `sts_mfa.session.state_file.Sessions.get`:

1. the profile's cached role session, read lock-free, if its profile is unchanged and
   it has more than the margin left;
2. else the entry's lock (parallel callers queue: one AssumeRole between them), the
   cache again;
3. the source profile's credentials, from wherever botocore finds them;
4. by default an MFA session: `GetSessionToken` with one code, cached per source
   identity and device, then `AssumeRole` with it and no code (AWS carries the MFA
   context, and caps such a role session at one hour). A profile asking for more than
   3600 s, or `--no-mfa-session`, assumes the role directly with a code. A user profile
   (keys and an mfa_serial, no role) is served the MFA session itself, with the ARN it
   acts as (GetCallerIdentity): the same session its role profiles use;
5. a code, when one is needed, from: a code given (`--code`, `STS_MFA_CODE`), the
   profile's `mfa_process`, a prompt on the terminal, else the caller's "no code"
   error. Every code's time-step is reserved in the device's ledger first, so no two
   callers on one device, profiles or state files, ever send the same step.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sts_mfa.aws.clients import Aws, Keys
from sts_mfa.aws.errors import error_code, error_message, translate, translate_errors
from sts_mfa.errors import AwsError, CodeRefused, CredentialsError, NoCode, StsMfaError
from sts_mfa.files import cache
from sts_mfa.mfa.ledger import Ledger
from sts_mfa.mfa.refusals import Failure, Refusal, decide
from sts_mfa.mfa.sources import Codes, NoneToBeHad
from sts_mfa.mfa.spending import spend, wait_for_unspent_step
from sts_mfa.progress import Reporter
from sts_mfa.session import cache as session_cache
from sts_mfa.session.model import Obtained, Settings, Want, session_doc
from sts_mfa.session.profiles import Profile
from sts_mfa.state.cached import Cached

if TYPE_CHECKING:
    from sts_mfa.clock import Clock

CHAINED_LIMIT = 3600  # AWS caps a role assumed with session credentials at one hour
MFA_MARGIN = 60.0  # an MFA session with less left is not used: the call made with it must fit
STALE = ("ExpiredToken", "InvalidClientTokenId")  # AWS no longer takes a cached MFA session
CODE_SENT_TO = "AssumeRole"


class ProfileSessions:
    """Role sessions for one profile (see the module docstring for the policy)."""

    def __init__(
        self,
        profile: Profile,
        *,
        source: Aws,
        clock: Clock,
        report: Reporter,
        cache_root: str,
        endpoint: str | None,
        requested_endpoint: str | None,
        settings: Settings,
    ) -> None:
        self.profile, self.source, self.clock, self.report = profile, source, clock, report
        self.root = cache.ensure(cache_root)
        # The endpoint the requests go to (the flag, AWS_ENDPOINT_URL, else the profile's
        # endpoint_url) keys the ledger and the MFA session. The role session is keyed by
        # the flag or variable alone, which the light path knows without reading the
        # config; the profile's own endpoint_url is in its fingerprint instead.
        self.endpoint = endpoint
        self.requested_endpoint = requested_endpoint
        self.settings = settings
        self.role_path = session_cache.role_entry_path(
            self.root, profile.name, profile.config_file, profile.credentials_file, requested_endpoint
        )
        self.notes: list[str] = []  # what -v says: how the session was obtained
        self._mfa_session_was_cached: bool | None = None  # of the last MFA session used

    # -- the role session ----------------------------------------------------------------

    def cached(self, margin: float) -> tuple[dict[str, Any], Cached] | None:
        """The cache entry and its session, if it is this profile's and has `margin` s left."""
        entry = cache.read_entry(self.role_path)
        if entry is None or entry.get("fingerprint") != self.profile.fingerprint():
            return None
        hit = session_cache.usable_session(
            entry.get("session"), self.profile.role_arn, self.clock.now(), margin
        )
        return None if hit is None else (entry, hit)

    def get(self, want: Want, codes: Codes) -> Obtained:
        found = None if want.force else self.cached(want.margin)
        if found is not None and found[1].remaining(self.clock.now()) > want.renew_below(found[1]):
            entry, hit = found
            if entry.get("files") != self._signatures():
                self._restamp()
            return Obtained(hit, cached=True)
        margin = want.renew_below(found[1] if found else None)
        with cache.locked(
            self.role_path, f"the cached session of profile {self.profile.name}", self._waiting
        ):
            if not want.force and (found := self.cached(margin)) is not None:
                return Obtained(found[1], cached=True)  # another caller renewed it while we waited
            self._mfa_session_was_cached = None
            try:
                doc = self._assume(want, codes)
            except NoneToBeHad as e:
                return self._last_resort(want, e.error)
            except NoCode as e:
                return self._last_resort(want, e)
            self._store_role(doc)
        warnings = [w for w in (self.source.skew_warning(),) if w]
        return Obtained(Cached(doc), cached=False, warnings=warnings, source=self._how_obtained())

    def _how_obtained(self) -> str | None:
        """For the text format: a new role session from the MFA session (no code, or its one code)."""
        if self._mfa_session_was_cached is None:
            return None  # assumed directly with a code: the plain "new session" says it
        if self.profile.is_user:
            return (
                "the cached MFA session (no new code)"
                if self._mfa_session_was_cached
                else ("a new MFA session (GetSessionToken with MFA)")
            )
        if self._mfa_session_was_cached:
            return "new role session from the cached MFA session (no new code)"
        return "new role session from a new MFA session (GetSessionToken with MFA)"

    def _last_resort(self, want: Want, error: StsMfaError) -> Obtained:
        """No code for an SDK's early renewal: the cached session while it is above the SDK's floor.

        Only for an SDK (`Want.for_sdk`): it would otherwise lose, in its advisory window, a
        session it may still use; the other callers get the error, as always."""
        found = None if want.force or not want.for_sdk else self.cached(0.0)
        if found is None or found[1].remaining(self.clock.now()) <= want.floor(found[1]):
            raise error
        hit = found[1]
        warning = (
            f"the cached session of profile {self.profile.name} expires in "
            f"{int(hit.remaining(self.clock.now()))} s and there is no MFA code to renew it; "
            f"run `{shlex.join(['sts-mfa', 'assume', self.profile.name])}` in a terminal"
        )
        return Obtained(hit, cached=True, warnings=[warning])

    def _waiting(self) -> None:
        self.report.info(f"waiting for another sts-mfa renewing the session of profile {self.profile.name}")

    def duration(self, want: Want) -> int:
        return want.duration or self.profile.duration_seconds or 3600

    def _assume(self, want: Want, codes: Codes) -> dict[str, Any]:
        if self.profile.is_user:
            return self._user_session(want, codes)
        duration = self.duration(want)
        if self.settings.use_mfa_session and duration <= CHAINED_LIMIT:
            return self._assume_with_mfa_session(duration, codes)
        why = (
            "--no-mfa-session"
            if not self.settings.use_mfa_session
            else f"{duration} s is over the 1-hour cap"
        )
        self.notes.append(f"assuming {self.profile.role_arn} directly with a code ({why})")
        return self._assume_with_code(duration, codes)

    def _assume_role(self, sts: Any, duration: int, **mfa: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "RoleArn": self.profile.role_arn,
            "RoleSessionName": self.session_name(),
            "DurationSeconds": duration,
            **mfa,
        }
        if self.profile.external_id:
            kwargs["ExternalId"] = self.profile.external_id
        answer = sts.assume_role(**kwargs)
        assumed = answer.get("AssumedRoleUser", {}).get("Arn")
        return session_doc(answer["Credentials"], self.profile.role_arn, assumed, self.clock.now())

    def session_name(self) -> str:
        if self.profile.role_session_name:
            return self.profile.role_session_name
        name = re.sub(r"[^\w+=,.@-]", "-", f"sts-mfa-{self.profile.name}", flags=re.ASCII)[:50]
        return f"{name}-{int(self.clock.now())}"

    def _assume_with_code(self, duration: int, codes: Codes) -> dict[str, Any]:
        code = self.code(codes)
        sts = self.source.sts_with(self.source_keys(), spends_mfa_code=True)
        try:
            return self._assume_role(sts, duration, SerialNumber=self.profile.mfa_serial, TokenCode=code)
        except ClientError as e:
            raise self._refused(e, "AssumeRole with MFA") from None
        except StsMfaError:
            raise
        except Exception as e:
            raise translate(e, "AssumeRole with MFA") from e

    def _assume_with_mfa_session(self, duration: int, codes: Codes) -> dict[str, Any]:
        for attempt in (1, 2):
            mfa, mfa_path = self.mfa_session(codes)
            sts = self.source.sts_with(_keys(mfa))
            try:
                doc = self._assume_role(sts, duration)
            except ClientError as e:
                if attempt == 1 and error_code(e) in STALE:
                    cache.remove_entry(mfa_path)  # AWS no longer takes it: one new MFA session
                    continue
                raise self._refused(e, "AssumeRole with the MFA session") from None
            except Exception as e:
                raise translate(e, "AssumeRole with the MFA session") from e
            self._note_served(mfa_path)
            return doc
        raise AssertionError("unreachable")  # pragma: no cover

    def _user_session(self, want: Want, codes: Codes) -> dict[str, Any]:
        """A user profile's session: its MFA session (the one its role profiles share), with the
        user's ARN, which GetCallerIdentity (allowed to an MFA session) tells."""
        for attempt in (1, 2):
            mfa, mfa_path = self.mfa_session(codes, want)
            try:
                arn = str(self.source.sts_with(_keys(mfa)).get_caller_identity()["Arn"])
            except ClientError as e:
                if attempt == 1 and error_code(e) in STALE:
                    cache.remove_entry(mfa_path)
                    continue
                raise self._refused(e, "GetCallerIdentity with the MFA session") from None
            except Exception as e:
                raise translate(e, "GetCallerIdentity with the MFA session") from e
            return {
                "access_key_id": mfa.access_key_id,
                "secret_access_key": mfa.secret_access_key,
                "session_token": mfa.session_token,
                "expiration": mfa.expiration,
                "role_arn": "",
                "assumed_role_arn": arn,
                "obtained_at": mfa.obtained_at,
            }
        raise AssertionError("unreachable")  # pragma: no cover

    def _refused(self, e: ClientError, doing: str) -> StsMfaError:
        """What a refusal means, from the refusal table both modes share (`sts_mfa.mfa.refusals`):
        a code is never sent twice here, and nothing was just created, so there is nothing to wait for."""
        code, message = error_code(e), error_message(e)
        decision = decide(Refusal(code, message, typed=True, can_wait=False, denials=0))
        if decision.failure is Failure.CODE_REFUSED:
            return CodeRefused(f"AWS refused the MFA code for {self.profile.mfa_serial}: {message}")
        if decision.failure is Failure.DENIED:
            return AwsError(
                f"{doing}: {self.profile.role_arn or 'profile ' + self.profile.name} was refused: {message}",
                code=code,
                hint=f"check the role's trust policy and the source identity's permissions "
                f"(`{shlex.join(['sts-mfa', 'check-deny', self.profile.name])}` tells more)",
            )
        return translate(e, doing)

    def _signatures(self) -> dict[str, list[int] | None]:
        return {
            "config": session_cache.file_signature(self.profile.config_file),
            "credentials": session_cache.file_signature(self.profile.credentials_file),
        }

    def _restamp(self) -> None:
        """The profile is unchanged though its files were touched: let the light path hit again."""
        with cache.locked(self.role_path, f"the cached session of profile {self.profile.name}"):
            entry, signatures = cache.read_entry(self.role_path), self._signatures()
            if entry is not None and entry.get("files") != signatures:
                entry.pop("version", None)
                cache.write_entry(self.role_path, {**entry, "files": signatures})

    def _store_role(self, doc: dict[str, Any]) -> None:
        cache.write_entry(
            self.role_path,
            {
                "profile": self.profile.name,
                "fingerprint": self.profile.fingerprint(),
                "files": self._signatures(),
                "endpoint": self.requested_endpoint,
                "session": doc,
            },
        )

    # -- the source identity and the MFA session ---------------------------------------------

    def source_keys(self) -> Keys:
        name, source = self.profile.name, self.profile.source_profile
        with translate_errors(f"profile {name}: the credentials of {source}"):
            found = self.source.session.get_credentials()
            frozen = found.get_frozen_credentials() if found is not None else None
        if frozen is None or not frozen.access_key or not frozen.secret_key:
            whose = (
                "no access key" if self.profile.is_user else f"no credentials for its source_profile {source}"
            )
            raise CredentialsError(
                f"profile {name}: {whose}",
                hint="check the credentials file (AWS_SHARED_CREDENTIALS_FILE), or `sts-mfa keys list`",
            )
        return Keys(frozen.access_key, frozen.secret_key, frozen.token)

    def mfa_path(self, keys: Keys) -> str:
        key = cache.entry_name("mfa", keys.access_key_id, self.profile.mfa_serial, self.endpoint or "aws")
        return f"{self.root}/{key}"

    def mfa_session(self, codes: Codes, want: Want | None = None) -> tuple[Cached, str]:
        """The MFA session for this source identity and device: cached, or one new code's worth.

        `want`: a user profile's, whose session this is (its margin, `--force`, its duration)."""
        keys = self.source_keys()
        path = self.mfa_path(keys)
        if (found := self._usable_mfa(path, want)) is not None:
            return found, path
        with cache.locked(path, f"the MFA session for {self.profile.mfa_serial}", self._waiting):
            if (found := self._usable_mfa(path, want)) is not None:
                return found, path  # another caller got it while we waited: one code served both
            code = self.code(codes)
            sts = self.source.sts_with(keys, spends_mfa_code=True)
            duration = self.mfa_session_duration(want)
            try:
                answer = sts.get_session_token(
                    SerialNumber=self.profile.mfa_serial, TokenCode=code, DurationSeconds=duration
                )
            except ClientError as e:
                raise self._refused(e, "GetSessionToken with MFA") from None
            except Exception as e:
                raise translate(e, "GetSessionToken with MFA") from e
            session = session_doc(answer["Credentials"], "", None, self.clock.now())
            cache.write_entry(
                path,
                {
                    "serial": self.profile.mfa_serial,
                    "endpoint": self.endpoint,
                    "source": keys.access_key_id,
                    "session": session,
                    "roles": [],
                },
            )
            self._mfa_session_was_cached = False
            self.notes.append(f"a new MFA session for {self.profile.mfa_serial}, good for {duration} s")
            return Cached(session), path

    def mfa_session_duration(self, want: Want | None) -> int:
        """GetSessionToken's DurationSeconds: --mfa-session-duration; for a user profile, whose
        session it is: --duration, else that flag if given, else its duration_seconds."""
        settings = self.settings
        if not self.profile.is_user:
            return settings.mfa_session_duration
        if want is not None and want.duration:
            return want.duration
        if settings.duration_given:
            return settings.mfa_session_duration
        return self.profile.duration_seconds or settings.mfa_session_duration

    def _usable_mfa(self, path: str, want: Want | None) -> Cached | None:
        """The cached MFA session, if it has enough left (for a user profile: what `want` asks)."""
        if want is not None and want.force:
            return None
        entry = cache.read_entry(path)
        now = self.clock.now()
        session = session_cache.usable_session(entry.get("session") if entry else None, "", now, MFA_MARGIN)
        if session is None or (want is not None and session.remaining(now) <= want.renew_below(session)):
            return None
        self._mfa_session_was_cached = True
        self.notes.append(f"the cached MFA session for {self.profile.mfa_serial} (no new code)")
        return session

    def _note_served(self, path: str) -> None:
        """Record which roles the MFA session serves (for `status`)."""
        with cache.locked(path, f"the MFA session for {self.profile.mfa_serial}"):
            entry = cache.read_entry(path)
            if entry is None:
                return
            roles = [r for r in entry.get("roles", []) if isinstance(r, str)]
            if self.profile.role_arn not in roles:
                entry["roles"] = [*roles, self.profile.role_arn]
                entry.pop("version", None)
                cache.write_entry(path, entry)

    # -- codes -----------------------------------------------------------------------------

    def code(self, codes: Codes) -> str:
        """A code for the device, its time-step reserved in the shared ledger first."""
        kind, get = codes.source()
        assert get is not None  # a profile has no software token
        if kind == "none":
            get()  # raises: no source can give a code (before the ledger is even opened)
        ledger = Ledger(self.root, self.endpoint, self.profile.mfa_serial)
        with ledger.held() as shared:
            if kind in ("process", "prompt", "dialog"):  # the current window's code: it must be unspent
                wait_for_unspent_step(shared, self.clock, self.report)
            code = get()
            spend(shared, code, self.clock.now(), step=None, typed=True)
        self.notes.append(f"a code from {'the profile mfa_process' if kind == 'process' else 'the ' + kind}")
        return code


def _keys(session: Cached) -> Keys:
    return Keys(session.access_key_id, session.secret_access_key, session.session_token)
