"""Reading every role in pages when the account changes under the reader, and hostile answers.

The sandbox's Marker is a position in the roles in name order at each call (see
`sts_mfa.sandbox.iam.authorization_details`), so a role created or deleted before it
between two pages shifts the rest: the next page repeats a role or skips one. The
`progress` callback runs after each page: these tests change the account there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.handlers import json_decode_policies

from sts_mfa.audit.classify import CHANGED, NO_POLICY, classify
from sts_mfa.audit.reading import Account, read_account
from sts_mfa.errors import AwsError
from sts_mfa.sandbox import Sandbox
from tests.support.sandbox import admin

ROOT = "arn:aws:iam::111111111111:root"


def _trust(mfa: bool) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"}
    if mfa:
        statement["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _iam(sb: Sandbox, names: list[str]) -> Any:
    iam = admin(sb, "iam")
    iam.meta.events.unregister("after-call.iam", json_decode_policies)  # as sts_mfa.aws.clients does
    for name in names:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust(True))
    return iam


def _read(iam: Any, after_page: Callable[[int], None]) -> Account:
    return read_account(iam, page_size=2, progress=lambda pages, _roles: after_page(pages))


def _verdicts(account: Account) -> dict[str, str]:
    return {r.name: r.verdict for r in classify(account, frozenset())}


@pytest.mark.sandbox
def test_a_role_deleted_between_pages_makes_another_skipped_until_read_again(sb: Sandbox) -> None:
    iam = _iam(sb, ["r0", "r1", "r2", "r3", "r4"])
    calls = {"n": 0}

    def after_page(pages: int) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            iam.delete_role(RoleName="r0")  # r2 moves to position 1: the first reading skips it

    account = _read(iam, after_page)
    assert {r.name for r in account.roles.values()} == {"r1", "r2", "r3", "r4"}
    assert account.readings == 3 and not account.unstable
    assert _verdicts(account) == dict.fromkeys(["r1", "r2", "r3", "r4"], "requires-mfa")


@pytest.mark.sandbox
def test_a_role_opened_after_it_was_read_is_read_again(sb: Sandbox) -> None:
    iam = _iam(sb, ["r0", "r1", "r2", "r3"])
    calls = {"n": 0}

    def after_page(pages: int) -> None:
        calls["n"] += 1
        if calls["n"] == 1:  # r0 was read requiring MFA; now it is open
            iam.update_assume_role_policy(RoleName="r0", PolicyDocument=_trust(False))

    verdicts = _verdicts(_read(iam, after_page))
    assert verdicts["r0"] == "open" and verdicts["r1"] == "requires-mfa"


@pytest.mark.sandbox
def test_a_role_that_keeps_changing_is_never_said_to_require_mfa(sb: Sandbox) -> None:
    iam = _iam(sb, ["r0", "r1", "r2"])
    flips = {"n": 0}

    def after_page(pages: int) -> None:
        if pages == 1:  # r1 is on page 1: each reading sees it other than the one before
            flips["n"] += 1
            iam.update_assume_role_policy(RoleName="r1", PolicyDocument=_trust(flips["n"] % 2 == 0))

    account = _read(iam, after_page)
    results = {r.name: r for r in classify(account, frozenset())}
    assert account.readings == 3 and set(account.unstable) == {"arn:aws:iam::111111111111:role/r1"}
    assert results["r1"].verdict == "undecided" and results["r1"].findings[0].reason == CHANGED
    assert results["r0"].verdict == results["r2"].verdict == "requires-mfa"


@pytest.mark.sandbox
def test_a_role_created_between_pages_is_found_on_the_next_reading(sb: Sandbox) -> None:
    iam = _iam(sb, ["r1", "r2", "r3"])
    calls = {"n": 0}

    def after_page(pages: int) -> None:
        calls["n"] += 1
        if calls["n"] == 1:  # before the marker: the first reading never sees it, and repeats r2
            iam.create_role(RoleName="r0", AssumeRolePolicyDocument=_trust(False))

    verdicts = _verdicts(_read(iam, after_page))
    assert verdicts == {"r0": "open", "r1": "requires-mfa", "r2": "requires-mfa", "r3": "requires-mfa"}


class _Endpoint:
    """An IAM client whose answers a test writes (an endpoint that is not AWS)."""

    def __init__(self, *pages: dict[str, Any]) -> None:
        self.pages = list(pages)
        self.calls = 0

    def get_account_authorization_details(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        return self.pages[min(self.calls, len(self.pages)) - 1]


def test_an_endpoint_that_says_more_but_gives_no_new_marker() -> None:
    looping = _Endpoint({"RoleDetailList": [], "IsTruncated": True, "Marker": "m"})
    with pytest.raises(AwsError, match="gave no new Marker"):
        read_account(looping)
    assert looping.calls == 2
    with pytest.raises(AwsError, match="gave no new Marker"):
        read_account(_Endpoint({"RoleDetailList": [], "IsTruncated": True}))


def test_hostile_role_details() -> None:
    arn = "arn:aws:iam::111111111111:role/"
    answer = {
        "RoleDetailList": [  # entries that name no role: test_audit_attacks.py (an error, not dropped)
            {"Arn": arn + "no-policy", "RoleName": "no-policy", "Path": "/"},
            {"Arn": arn + "garbage", "RoleName": "garbage", "Path": 7, "AssumeRolePolicyDocument": "%ZZ{"},
        ],
        "IsTruncated": False,
    }
    results = {r.name: r for r in classify(read_account(_Endpoint(answer)), frozenset())}
    assert set(results) == {"no-policy", "garbage"}
    assert (
        results["no-policy"].verdict == "undecided" and results["no-policy"].findings[0].reason == NO_POLICY
    )
    assert results["garbage"].verdict == "undecided" and results["garbage"].path == "/"
