"""The adversarial trust-policy corpus (tests/trust/corpus/*.json) and its placeholders.

Each document names `{USER_ARN}`, `{ACCOUNT}` and `{OTHER_ACCOUNT}`; `substitute` fills
them in (by default with alice in 111111111111, the other account 222222222222).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parents[1] / "trust" / "corpus"
ACCOUNT = "111111111111"
OTHER_ACCOUNT = "222222222222"
USER = f"arn:aws:iam::{ACCOUNT}:user/sts-mfa/alice"


def documents() -> list[tuple[str, dict[str, Any]]]:
    """Every corpus document, as (name, entry), in name order."""
    return [(path.stem, json.loads(path.read_text())) for path in sorted(CORPUS.glob("*.json"))]


def substitute(
    value: Any, user_arn: str = USER, account: str = ACCOUNT, other_account: str = OTHER_ACCOUNT
) -> Any:
    """`value` (a document, or any part of one) with the placeholders filled in."""
    if isinstance(value, str):
        return (
            value.replace("{USER_ARN}", user_arn)
            .replace("{OTHER_ACCOUNT}", other_account)
            .replace("{ACCOUNT}", account)
        )
    if isinstance(value, list):
        return [substitute(v, user_arn, account, other_account) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, user_arn, account, other_account) for k, v in value.items()}
    return value
