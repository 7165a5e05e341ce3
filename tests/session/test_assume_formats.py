"""Output formats for other programs."""

from __future__ import annotations

import json
import shlex

import pytest

from sts_mfa.session.handoff import render
from sts_mfa.state.model import Resource, Session, State, cached_session

SESSION = Session("ASIAEXAMPLE", "secret/with+chars", "token'with quote", 1_800_003_600.0, "arn:role")


def test_process_format_is_the_credential_process_document() -> None:
    doc = json.loads(render(SESSION, "process", now=1_800_000_000.0, cached=True))
    assert doc == {
        "Version": 1,
        "AccessKeyId": "ASIAEXAMPLE",
        "SecretAccessKey": "secret/with+chars",
        "SessionToken": "token'with quote",
        "Expiration": "2027-01-15T09:00:00Z",
    }


def test_the_process_document_carries_the_account_botocore_reads() -> None:
    """`AccountId`: the assumed role's account (from its session ARN, else the role ARN), never a guess."""
    role = "arn:aws:iam::123456789012:role/r"
    for assumed, account in (
        (None, "123456789012"),
        ("arn:aws:sts::210987654321:assumed-role/r/s", "210987654321"),
    ):
        session = Session("ASIAEXAMPLE", "s", "t", 1_800_003_600.0, role, assumed_role_arn=assumed)
        assert json.loads(render(session, "process", now=0, cached=True))["AccountId"] == account
        assert "AccountId" not in json.loads(render(session, "json", now=0, cached=True))  # STS's object


def test_json_format_is_the_sts_credentials_object() -> None:
    doc = json.loads(render(SESSION, "json", now=0, cached=True))
    assert set(doc) == {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}


def test_env_format_survives_the_shell() -> None:
    text = render(SESSION, "env", now=0, cached=True)
    values = {}
    for line in text.splitlines():
        word, assignment = shlex.split(line)
        assert word == "export"
        name, _, value = assignment.partition("=")
        values[name] = value
    assert values == {
        "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret/with+chars",
        "AWS_SESSION_TOKEN": "token'with quote",
        "AWS_CREDENTIAL_EXPIRATION": "2027-01-15T09:00:00Z",
    }


def test_text_format_has_no_secret() -> None:
    text = render(SESSION, "text", now=1_800_000_000.0, cached=True)
    assert "ASIAEXAMPLE" in text
    assert "secret/with+chars" not in text and "token'with quote" not in text
    assert "in 60 min 0 s" in text


def state_with(session: Session | None, role_arn: str = "arn:role") -> State:
    return State(prefix="p", iam_path="/x/", mode="software", role=Resource("r", role_arn), session=session)


@pytest.mark.parametrize(
    ("now", "margin", "usable"),
    [
        (1_800_000_000.0, 300, True),
        (1_800_003_600.0 - 301, 300, True),
        (1_800_003_600.0 - 300, 300, False),  # exactly the margin left: renew
        (1_800_003_600.0 + 1, 0, False),  # expired
    ],
)
def test_cache_is_used_while_more_than_the_margin_remains(now: float, margin: float, usable: bool) -> None:
    assert (cached_session(state_with(SESSION), now, margin) is not None) is usable


def test_a_session_for_another_role_is_not_used() -> None:
    assert cached_session(state_with(SESSION, role_arn="arn:other"), 0, 0) is None
