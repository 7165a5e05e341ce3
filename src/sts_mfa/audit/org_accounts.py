"""The organization's accounts, from `organizations:ListAccounts`, read as hostile input.

What AWS documents (Organizations API Reference, ListAccounts): pages of at most 20
(`MaxResults`), followed by `NextToken` until there is none, and "these operations can
occasionally return an empty set of results even when more results are available": an
empty page with a token is not the end. Only the management account or a delegated
administrator may call it. Each `Account` has a 12-digit `Id`, a `Name`, and a `State`
(`ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, `PENDING_ACTIVATION`, `CLOSED`) beside the
older `Status`; closed accounts stay listed for 90 days. Only ACTIVE accounts are audited.

An answer that is not that (no `Accounts` list, an entry without a 12-digit `Id`, a
token that repeats, more pages than any organization has) ends the run with one line:
an account the audit cannot name would be an account never audited. An account listed
twice (pages are not a snapshot) is audited once; it counts as ACTIVE if any listing
says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sts_mfa.errors import AwsError
from sts_mfa.text import is_account_id, one_line

MAX_RESULTS = 20  # ListAccounts' maximum page
MAX_PAGES = 10_000  # 200,000 accounts: far beyond any organization; a token chain longer is a loop
MAX_NAME = 128  # an account name's maximum length (botocore's model)
ACTIVE = "ACTIVE"


@dataclass
class OrgAccount:
    id: str
    name: str
    state: str  # ACTIVE, SUSPENDED, ...: State if the answer has it, else Status


@dataclass
class Listing:
    """Every account ListAccounts named, in its order, each once."""

    accounts: list[OrgAccount] = field(default_factory=list)
    pages: int = 0

    @property
    def active(self) -> list[OrgAccount]:
        return [a for a in self.accounts if a.state == ACTIVE]

    def inactive(self) -> Counter[str]:
        """How many accounts are in each state that is not ACTIVE (skipped, and said so)."""
        return Counter(a.state for a in self.accounts if a.state != ACTIVE)


PageProgress = Callable[[int, int], None]  # (pages read, accounts so far)


def list_accounts(organizations: Any, progress: PageProgress | None = None) -> Listing:
    """Every page of ListAccounts, validated (see the module docstring)."""
    from sts_mfa.aws.errors import translate_errors

    listing = Listing()
    seen: dict[str, OrgAccount] = {}
    tokens: set[str] = set()
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"MaxResults": MAX_RESULTS}
        if token is not None:
            kwargs["NextToken"] = token
        try:
            with translate_errors("listing the organization's accounts (organizations:ListAccounts)"):
                answer = organizations.list_accounts(**kwargs)
        except AwsError as e:
            raise _explained(e) from None
        listing.pages += 1
        entries = answer.get("Accounts") if isinstance(answer, dict) else None
        if not isinstance(entries, list):
            raise _not_organizations("its answer has no Accounts list")
        for entry in entries:
            _add(listing, seen, _account(entry))
        if progress is not None:
            progress(listing.pages, len(listing.accounts))
        token = answer.get("NextToken")
        if token is None or token == "":
            return listing
        if not isinstance(token, str) or token in tokens or listing.pages >= MAX_PAGES:
            raise _not_organizations("its NextToken repeats or never ends")
        tokens.add(token)


def _account(entry: object) -> OrgAccount:
    if not isinstance(entry, dict):
        shown = one_line(repr(entry))[:80]
        raise _not_organizations(f"it listed an entry that is not an account: {shown}")
    account_id = entry.get("Id")
    if not is_account_id(account_id):
        shown = one_line(repr(account_id))[:40]
        raise _not_organizations(f"it listed an account ID that is not 12 digits: {shown}")
    name = entry.get("Name")
    state = entry.get("State", entry.get("Status"))
    return OrgAccount(
        str(account_id),
        one_line(name)[:MAX_NAME] if isinstance(name, str) else "",
        one_line(state)[:40] if isinstance(state, str) and state else "UNKNOWN",
    )


def _add(listing: Listing, seen: dict[str, OrgAccount], account: OrgAccount) -> None:
    earlier = seen.get(account.id)
    if earlier is None:
        seen[account.id] = account
        listing.accounts.append(account)
    elif account.state == ACTIVE:  # listed twice: ACTIVE if any listing says so
        earlier.state = ACTIVE


# AWS's refusals of ListAccounts, and what to do about each
HINTS = {
    "AccessDeniedException": "only the organization's management account, or a delegated administrator, "
    "may list its accounts, with organizations:ListAccounts allowed: run with their credentials",
    "AWSOrganizationsNotInUseException": "the caller's account is in no organization: run with the "
    "management account's credentials, or audit this account without --organization",
}


def _explained(error: AwsError) -> AwsError:
    hint = HINTS.get(error.code or "")
    if hint is None or error.hint:
        return error
    return AwsError(error.message, code=error.code, operation=error.operation, hint=hint)


def _not_organizations(what: str) -> AwsError:
    return AwsError(
        f"listing the organization's accounts (ListAccounts): {what}",
        hint="check --endpoint-url / AWS_ENDPOINT_URL",
    )
