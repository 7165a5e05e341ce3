"""A JSON-protocol answer checked against botocore's own model before botocore parses it.

botocore's parser trusts the types it is sent; these are answers that would crash it (or
slip through as something else) and what sts-mfa says of them instead. The shapes are
botocore's real ones (Organizations' ListAccounts output).
"""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from sts_mfa.aws.json_answers import json_answer_problem

OUTPUT = (
    botocore.session.get_session()
    .get_service_model("organizations")
    .operation_model("ListAccounts")
    .output_shape
)


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (
            b'{"Accounts": [{"Id": "123456789012", "Name": "a", "JoinedTimestamp": 1.5}], "NextToken": "t"}',
            None,
        ),
        (b"", None),
        (b"{}", None),
        (b'{"Accounts": null}', None),  # botocore reads null as absent
        (b'{"Unmodelled": [1, 2]}', None),  # what the model does not name is left alone
        (b"<html>", "a body that is not JSON"),
        (b"[1, 2]", "a JSON document that is not an object"),
        (b'{"Accounts": "everyone"}', 'whose Accounts is not a list ("everyone")'),
        (b'{"Accounts": ["x"]}', 'whose Accounts[0] is not an object ("x")'),
        (b'{"Accounts": [{"Id": 12}]}', "whose Accounts[0].Id is not a string (12)"),
        (
            b'{"Accounts": [{"Id": "1", "JoinedTimestamp": true}]}',
            "Accounts[0].JoinedTimestamp is not a timestamp",
        ),
        (b'{"NextToken": {"a": 1}}', "whose NextToken is not a string"),
    ],
)
def test_json_answers(body: bytes, said: Any) -> None:
    problem = json_answer_problem(body, OUTPUT)
    assert problem == said if said is None else said in str(problem)


def test_what_is_shown_of_a_value_is_bounded() -> None:
    problem = json_answer_problem(b'{"Accounts": "' + b"x" * 10_000 + b'"}', OUTPUT)
    assert problem is not None and len(problem) < 200
