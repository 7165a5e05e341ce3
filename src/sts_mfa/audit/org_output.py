"""An organization audit's output, written as the accounts are read and printed once at the end.

Memory must not grow with the number of accounts, and a run that fails half-way must not
leave half a JSON document on stdout. So each account's items (its roles for `--json`, its
SARIF results, its table rows) are written as one JSON line each to a `Spool`, an unnamed
temporary file (0600, removed by the system when closed, whatever happens), and read back
one at a time when the run is done, inside the document they belong to (`document`).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any

from sts_mfa.audit.organization import AccountResult
from sts_mfa.audit.sarif import RULES, artifact_uri, envelope, plain_text, role_results

# The SARIF rules of an organization's run: the single-account rules, and an unreadable account.
UNREADABLE_RULE: dict[str, object] = {
    "id": "account-unreadable",
    "name": "AccountUnreadable",
    "shortDescription": {"text": "An account's roles could not be read"},
    "fullDescription": {
        "text": "The member role could not be assumed, or the account's roles could not be read: "
        "none of its roles was audited."
    },
    "defaultConfiguration": {"level": "error"},
}
ORG_RULES = [*RULES, UNREADABLE_RULE]
_ITEMS = f"sts-mfa:items:{uuid.uuid4()}"  # stands for the streamed array in a document


class Spool:
    """JSON items, one per line, in an unnamed temporary file; read back in order."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self.count = 0

    def write(self, item: object) -> None:
        self._file.write(json.dumps(item, default=str, ensure_ascii=False) + "\n")
        self.count += 1

    def items(self) -> Iterator[Any]:
        self._file.flush()
        self._file.seek(0)
        for line in self._file:
            yield json.loads(line)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def items_marker() -> str:
    """The value to put where the streamed array goes in a document's envelope."""
    return _ITEMS


def document(shape: dict[str, object], items: Iterable[object]) -> Iterator[str]:
    """`shape` as indented JSON, the value `items_marker()` in it replaced by `items` as an array."""
    text = json.dumps(shape, indent=2, default=str, ensure_ascii=False)
    head, found, tail = text.partition(json.dumps(_ITEMS))
    if not found:
        raise ValueError("the document has no place for its items")
    yield head + "["
    separator = "\n"
    for item in items:
        yield separator + "    " + json.dumps(item, default=str, ensure_ascii=False)
        separator = ",\n"
    yield ("\n]" if separator != "\n" else "]") + tail


# --- what each format writes per account -------------------------------------------------------


def json_items(result: AccountResult) -> list[dict[str, object]]:
    """`--json`: each role of the account, with the account."""
    return [{"account": result.account.id, **role.to_json()} for role in result.roles]


def json_shape(accounts: list[dict[str, object]], summary: dict[str, object]) -> dict[str, object]:
    return {"roles": _ITEMS, "accounts": accounts, "summary": summary}


def sarif_items(result: AccountResult) -> list[dict[str, object]]:
    """`--format sarif`: each finding of each role; an unreadable account is a result of its own."""
    results = [result for role in result.roles for result in role_results(role)]
    if result.status == "unreadable":
        results.append(_unreadable(result))
    return results


def sarif_shape(summary: dict[str, object], version: str) -> dict[str, object]:
    return envelope(_ITEMS, summary, version, ORG_RULES)


def _unreadable(result: AccountResult) -> dict[str, object]:
    account = result.account
    uri = artifact_uri(f"arn:aws:iam::{account.id}:/")
    text = f"account {account.id} ({account.name}) was not audited: {result.note}"
    fingerprint = hashlib.sha256(f"{account.id}\naccount-unreadable".encode()).hexdigest()
    return {
        "ruleId": UNREADABLE_RULE["id"],
        "ruleIndex": len(RULES),
        "level": "error",
        "message": {"text": plain_text(text)},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": uri}},
                "logicalLocations": [
                    {"name": account.id, "fullyQualifiedName": f"aws-account/{account.id}", "kind": "module"}
                ],
            }
        ],
        "partialFingerprints": {"accountUnreadable/v1": fingerprint},
        "properties": {"account": account.id, "name": account.name},
    }
