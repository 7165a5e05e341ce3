"""Every witness the analysis gives is replayed against the sandbox, as that caller: it must get in.

The sandbox's enforcement layer evaluates trust policies itself (not moto), so it is the
second implementation here. A cast of callers lives in it (alice and bob with long-term keys
and session tokens obtained without MFA, a session of the role ci/runner, carol in the other
account); a generated trust policy is put on one role; then:

* each open finding's witness is sent as that caller (its session token or role session
  when the witness carries `aws:MultiFactorAuthPresent = "false"`, its `sts:ExternalId`):
  AWS's stand-in must hand out credentials;
* for "requires-mfa", every caller of the cast, without MFA, with each ExternalId the
  policy names (and none, and another) must be refused.

A witness the sandbox cannot play (a web-identity or SAML sign-in, a service, a principal
outside the cast) is skipped and counted: `test_most_witnesses_are_replayed` keeps the count
honest.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sts_mfa.trust.analysis import analyse
from tests.support.aws import Aws, Creds, create_role, identity_policy

pytestmark = pytest.mark.sandbox

TARGET = "replay-target"
PRESENT, AGE = "aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge"
TALLY: Counter[str] = Counter()


@dataclass
class Cast:
    aws: Aws
    long_term: dict[str, Creds]  # caller ARN -> its long-term keys
    temporary: dict[str, Creds]  # caller ARN (a user's, or a role's for its session) -> creds without MFA
    target: str
    accounts: list[str]

    @property
    def callers(self) -> list[str]:
        return sorted(set(self.long_term) | set(self.temporary))


def _user(aws: Aws, name: str, path: str, account: int = 0) -> tuple[str, Creds]:
    iam = aws.iam(account)
    arn = iam.create_user(UserName=name, Path=path)["User"]["Arn"]
    iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=identity_policy("sts:*", "*"))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return arn, Creds(key["AccessKeyId"], key["SecretAccessKey"])


@pytest.fixture
def cast(aws: Aws) -> Cast:
    long_term = dict(
        [_user(aws, "alice", "/"), _user(aws, "bob", "/team/"), _user(aws, "carol", "/", account=1)]
    )
    temporary = {
        arn: Creds.of(aws.client("sts", creds).get_session_token(DurationSeconds=43200))
        for arn, creds in long_term.items()
    }
    alice = next(a for a in long_term if a.endswith("/alice"))
    runner_trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": alice}, "Action": "sts:AssumeRole"}],
        }
    )
    runner = create_role(aws, "runner", runner_trust, list_buckets=False, Path="/ci/")
    aws.iam().put_role_policy(
        RoleName="runner", PolicyName="assume", PolicyDocument=identity_policy("sts:*", "*")
    )
    answer = aws.client("sts", long_term[alice]).assume_role(
        RoleArn=runner, RoleSessionName="s1", DurationSeconds=3600
    )
    temporary[runner] = Creds.of(answer)
    target = create_role(aws, TARGET, runner_trust, list_buckets=False)
    return Cast(aws, long_term, temporary, target, aws.account_ids)


def _principals(cast_accounts: list[str]) -> list[Any]:
    a1, a2 = cast_accounts
    return [
        "*",
        {"AWS": "*"},
        {"AWS": f"arn:aws:iam::{a1}:user/alice"},
        {"AWS": f"arn:aws:iam::{a1}:user/team/bob"},
        {"AWS": f"arn:aws:iam::{a1}:role/ci/runner"},
        {"AWS": a1},
        {"AWS": f"arn:aws:iam::{a2}:root"},
        {"AWS": f"arn:aws:iam::{a2}:user/carol"},
        {"Federated": f"arn:aws:iam::{a1}:oidc-provider/token.actions.githubusercontent.com"},
        {"Service": "ec2.amazonaws.com"},
    ]


def _policies(accounts: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    a1, a2 = accounts
    keys = [
        (
            PRESENT,
            [
                "Bool",
                "BoolIfExists",
                "StringEquals",
                "StringNotEquals",
                "Null",
                "ForAnyValue:StringEquals",
                "ForAllValues:StringEquals",
            ],
            ["true", "false"],
        ),
        (
            AGE,
            ["NumericLessThan", "NumericGreaterThanEquals", "NumericLessThanIfExists", "Null"],
            ["0", "3600"],
        ),
        (
            "sts:ExternalId",
            ["StringEquals", "StringNotEquals", "StringLike", "StringEqualsIfExists", "Null"],
            ["ext-1", "ext-*"],
        ),
        (
            "aws:PrincipalArn",
            ["ArnLike", "ArnNotLike", "StringEquals", "StringLike"],
            [f"arn:aws:iam::{a1}:user/alice", f"arn:aws:iam::{a1}:role/*", "arn:aws:iam::*:user/team/*"],
        ),
        ("aws:PrincipalAccount", ["StringEquals", "StringNotEquals"], [a1, a2]),
    ]

    @st.composite
    def clause(draw: Any) -> dict[str, Any]:
        key, operators, values = draw(st.sampled_from(keys))
        operator = draw(st.sampled_from(operators))
        if operator == "Null":
            return {"Null": {key: draw(st.sampled_from(["true", "false"]))}}
        chosen = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True))
        return {operator: {key: chosen if len(chosen) > 1 else chosen[0]}}

    @st.composite
    def statement(draw: Any, effect: str | None = None) -> dict[str, Any]:
        made: dict[str, Any] = {
            "Effect": effect or draw(st.sampled_from(["Allow", "Deny"])),
            "Principal": draw(st.sampled_from(_principals(accounts))),
            "Action": draw(
                st.sampled_from(
                    [
                        "sts:AssumeRole",
                        ["sts:AssumeRole", "sts:AssumeRoleWithSAML"],
                        "sts:AssumeRoleWithWebIdentity",
                    ]
                )
            ),
        }
        condition: dict[str, Any] = {}
        for c in draw(st.lists(clause(), max_size=2)):
            for operator, pairs in c.items():
                condition.setdefault(operator, {}).update(pairs)
        if condition:
            made["Condition"] = condition
        return made

    return st.builds(
        lambda first, rest: {"Version": "2012-10-17", "Statement": [first, *rest]},
        statement("Allow"),
        st.lists(statement(), max_size=2),
    )


def _gets_in(cast: Cast, creds: Creds, external_id: str | None) -> bool:
    extra = {} if external_id is None else {"ExternalId": external_id}
    try:
        cast.aws.client("sts", creds).assume_role(RoleArn=cast.target, RoleSessionName="replay", **extra)
    except ClientError as e:
        assert e.response["Error"]["Code"] == "AccessDenied", e.response["Error"]
        return False
    return True


def _external_ids(document: dict[str, Any]) -> list[str | None]:
    named: set[str] = set()
    for statement in document["Statement"]:
        for pairs in statement.get("Condition", {}).values():
            value = pairs.get("sts:ExternalId")
            named.update([value] if isinstance(value, str) else value or [])
    return [None, "other-id", *sorted(v.replace("*", "x") for v in named)]


def _replay(cast: Cast, witness: dict[str, Any]) -> None:
    principal, context = witness["principal"], witness["context"]
    if principal["type"] != "AWS" or witness["action"] != "sts:AssumeRole":
        TALLY["skipped: not an AWS caller"] += 1
        return
    temporary = context.get(PRESENT) == "false"
    creds = (cast.temporary if temporary else cast.long_term).get(principal["value"])
    if creds is None:
        TALLY["skipped: a caller outside the cast"] += 1
        return
    assert _gets_in(cast, creds, context.get("sts:ExternalId")), witness
    TALLY["replayed"] += 1


@settings(
    max_examples=int(os.environ.get("REPLAY_EXAMPLES", "60")),
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_every_witness_gets_in_and_every_proof_holds(cast: Cast, data: st.DataObject) -> None:
    document = data.draw(_policies(cast.accounts))
    cast.aws.iam().update_assume_role_policy(RoleName=TARGET, PolicyDocument=json.dumps(document))
    analysis = analyse(document, home_account=cast.accounts[0], callers=tuple(cast.callers))
    TALLY[analysis.verdict] += 1
    for finding in analysis.findings:
        if finding.kind == "open" and finding.witness is not None:
            _replay(cast, finding.witness.to_json())
    if analysis.verdict == "requires-mfa":
        for caller in cast.callers:
            for creds in (cast.long_term.get(caller), cast.temporary.get(caller)):
                if creds is None:
                    continue
                for external_id in _external_ids(document):
                    assert not _gets_in(cast, creds, external_id), (caller, external_id, document)
        TALLY["proofs checked"] += 1


def test_most_witnesses_are_replayed() -> None:
    if not TALLY:
        pytest.skip("run together with test_every_witness_gets_in_and_every_proof_holds")
    print(dict(TALLY))
    skipped = TALLY["skipped: not an AWS caller"] + TALLY["skipped: a caller outside the cast"]
    assert TALLY["replayed"] > skipped, TALLY
    assert TALLY["proofs checked"] > 0, TALLY
