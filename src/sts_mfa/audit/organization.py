"""`sts-mfa audit --organization`: the roles of every ACTIVE account of an organization.

AWS is the distributed engine; this fans out over it:

1. who is calling (GetCallerIdentity: the caller's account and partition);
2. the accounts (`org_accounts.list_accounts`: ListAccounts pages, ACTIVE accounts only);
3. per account, on one of `--concurrency` threads: the caller's own account is read with
   the caller's credentials; any other with one AssumeRole of `--member-role` (default
   `OrganizationAccountAccessRole`, which AWS creates in every account it makes for an
   organization), then its roles exactly as the single-account audit reads them
   (`reading.read_account`: GetAccountAuthorizationDetails pages, read again until two
   readings agree) and classified (`classify`). Nothing is asked per role.
4. each account's result is handed on in the listing's order and dropped (`fanout`): the
   trust policies of one account are gone before the next is handed on, so memory does
   not grow with the number of accounts.

The caller's credentials may be long-term keys, a role session or an MFA session: AWS
carries MFA context into AssumeRole, so a member role whose trust requires MFA is
assumed with an MFA session as well, with no new code. An account whose member role
cannot be assumed, or whose roles cannot be read, is `unreadable` with AWS's reason:
never skipped in silence. Throttled calls are retried by botocore's standard-mode
pieces (`sts_mfa.aws.retries`) with backoff, and counted.

Threads: boto3 clients are thread-safe, sessions are not. The caller's STS and IAM
clients are made before the threads start and shared; each worker thread makes its own
boto3 Session for the member accounts' IAM clients (`Aws.worker_sessions`). The threads
wait for AWS together, but analyse one account at a time: the analysis is a solver
(cvc5, which is not thread-safe: one term manager per process), it needs a CPU rather
than the network (Python's GIL would serialize it anyway), and an account with many
distinct trust policies shares them out to worker processes of its own (`audit.parallel`),
which must not be started by every thread at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from sts_mfa.audit import Filters
from sts_mfa.audit.classify import RoleResult, classify
from sts_mfa.audit.fanout import ordered
from sts_mfa.audit.org_accounts import Listing, OrgAccount
from sts_mfa.audit.reading import PAGE_SIZE, read_account
from sts_mfa.aws.clients import Aws, Keys
from sts_mfa.aws.errors import translate_errors
from sts_mfa.errors import AwsError, StsMfaError
from sts_mfa.text import is_account_id, one_line

DEFAULT_MEMBER_ROLE = "OrganizationAccountAccessRole"
DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 64
SESSION_NAME = "sts-mfa-audit"
SESSION_SECONDS = 900  # AssumeRole's minimum: an account is read in seconds

Status = Literal["read", "unreadable", "excluded"]


@dataclass(frozen=True)
class Caller:
    account: str
    arn: str

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1]


@dataclass(frozen=True)
class Target:
    account: OrgAccount
    excluded: str | None = None  # why it is not read (--exclude-account, not one of --account)


@dataclass
class AccountResult:
    account: OrgAccount
    status: Status
    note: str | None = None
    roles: list[RoleResult] = field(default_factory=list)
    requests: int = 0  # GetAccountAuthorizationDetails pages

    def to_json(self) -> dict[str, object]:
        return {"id": self.account.id, "name": self.account.name, "status": self.status, "note": self.note}


@dataclass(frozen=True)
class OrgPlan:
    """What to read: the member role, how many accounts at a time, which accounts."""

    member_role: str = DEFAULT_MEMBER_ROLE
    concurrency: int = DEFAULT_CONCURRENCY
    only: frozenset[str] = frozenset()  # --account (empty: every ACTIVE account)
    exclude: frozenset[str] = frozenset()  # --exclude-account
    page_size: int = PAGE_SIZE

    def targets(self, listing: Listing) -> list[Target]:
        """Every ACTIVE account in the listing's order, those not to be read marked why.

        An --account that is not an ACTIVE account of the organization is an error: a
        typo must never pass as an account where all is well."""
        states = {a.id: a.state for a in listing.accounts}
        wrong = sorted(self.only - {a.id for a in listing.active})
        if wrong:
            shown = ", ".join(f"{a} ({states[a]})" if a in states else a for a in wrong[:5])
            raise StsMfaError(
                f"--account names no ACTIVE account of the organization: {shown}",
                hint="ListAccounts lists the accounts the caller's organization has",
            )
        return [Target(a, self._excluded(a.id)) for a in listing.active]

    def _excluded(self, account: str) -> str | None:
        if account in self.exclude:
            return "--exclude-account"
        if self.only and account not in self.only:
            return "not one of --account"
        return None

    def unknown_exclusions(self, listing: Listing) -> list[str]:
        """--exclude-account IDs the organization has no ACTIVE account for (they exclude nothing)."""
        return sorted(self.exclude - {a.id for a in listing.active})


@dataclass(frozen=True)
class OrgProgress:
    done: int
    total: int
    roles: int
    throttles: int


def ignored_in(ignore: frozenset[str], account: str) -> frozenset[str]:
    """The --ignore ARNs for one account: `arn:aws:iam::*:role/NAME` (any account) made this account's."""
    return frozenset(_in_account(arn, account) for arn in ignore)


def ignore_matches(pattern: str, arn: str) -> bool:
    """Whether an --ignore ARN (its account `*` or the role's own) names this role."""
    return _in_account(pattern, arn.split(":")[4] if arn.count(":") >= 5 else "") == arn


def _in_account(arn: str, account: str) -> str:
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[4] == "*":
        parts[4] = account
    return ":".join(parts)


def caller_identity(sts: Any) -> Caller:
    """The caller's account and ARN (GetCallerIdentity needs no permission)."""
    with translate_errors("GetCallerIdentity"):
        answer = sts.get_caller_identity()
    account, arn = answer.get("Account"), answer.get("Arn")
    if not is_account_id(account):
        raise AwsError(
            f"GetCallerIdentity answered the account {one_line(repr(account))[:40]}, not 12 digits",
            hint="check --endpoint-url / AWS_ENDPOINT_URL",
        )
    if not (isinstance(arn, str) and arn.startswith("arn:") and arn.count(":") >= 5):
        raise AwsError(f"GetCallerIdentity answered no ARN: {one_line(repr(arn))[:80]}")
    return Caller(account, arn)


class OrganizationAudit:
    """One run over the accounts (see the module docstring)."""

    def __init__(self, aws: Aws, plan: OrgPlan, filters: Filters, caller: Caller) -> None:
        self.aws, self.plan, self.filters, self.caller = aws, plan, filters, caller
        self._sts = aws.admin_sts()  # made here, on the calling thread; shared by the workers
        self._own_iam = aws.iam()
        self._new_session = aws.worker_sessions()
        self._local = threading.local()
        self._analysing = threading.Lock()
        self._roles = 0

    def member_role_arn(self, account: str) -> str:
        return f"arn:{self.caller.partition}:iam::{account}:role/{self.plan.member_role}"

    def run(
        self,
        targets: Iterable[Target],
        emit: Callable[[AccountResult], None],
        progress: Callable[[OrgProgress], None],
    ) -> None:
        """Read every target, `plan.concurrency` at a time; `emit` each result in order."""
        todo = list(targets)
        finished = 0

        def done(result: AccountResult) -> None:
            nonlocal finished
            finished += 1
            self._roles += len(result.roles)
            progress(OrgProgress(finished, len(todo), self._roles, self.aws.throttles))

        ordered(todo, self.read, concurrency=self.plan.concurrency, done=done, emit=emit)

    def read(self, target: Target) -> AccountResult:
        """One account's roles, or why they could not be read (on a worker thread)."""
        account = target.account
        if target.excluded is not None:
            return AccountResult(account, "excluded", target.excluded)
        own = account.id == self.caller.account
        iam = None
        try:
            iam = self._own_iam if own else self._member_iam(account.id)
            found = read_account(iam, page_size=self.plan.page_size, keep=self.filters.wants)
            with self._analysing:  # one account's analysis at a time: see the module docstring
                roles = classify(found, ignored_in(self.filters.ignore, account.id))
        except StsMfaError as e:
            return AccountResult(account, "unreadable", str(e))
        finally:
            if iam is not None and not own:
                iam.close()  # its connections now, not when the collector finds it: one per account
        strangers = [r.arn for r in roles if r.arn.split(":")[4:5] != [account.id]]
        if strangers:  # the role read is the role audited: another account's answer is no reading
            note = f"IAM answered with roles of another account ({one_line(strangers[0])[:120]})"
            return AccountResult(account, "unreadable", note, requests=found.requests)
        return AccountResult(account, "read", None, roles, found.requests)

    def _member_iam(self, account: str) -> Any:
        role = self.member_role_arn(account)
        with translate_errors(f"AssumeRole {role}"):
            answer = self._sts.assume_role(
                RoleArn=role, RoleSessionName=SESSION_NAME, DurationSeconds=SESSION_SECONDS
            )
        credentials: Any = answer.get("Credentials")
        credentials = credentials if isinstance(credentials, dict) else {}
        keys = [credentials.get(k) for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")]
        if not all(isinstance(k, str) and k for k in keys):
            raise AwsError(f"AssumeRole {role}: the answer carried no credentials")
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._new_session()
        return self.aws.iam_in(session, Keys(str(keys[0]), str(keys[1]), str(keys[2])))
