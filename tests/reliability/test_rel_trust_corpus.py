"""The adversarial trust-policy corpus, counted for the reliability report: no false proof.

`tests/trust/test_trust_analysis.py` checks each document's verdict in detail; here every
document is counted, and a "requires-mfa" verdict for a document that is not expected
to require MFA is the one finding that matters most: a false proof.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sts_mfa.trust import analysis as trust
from tests.support.corpus import CORPUS, substitute

if TYPE_CHECKING:
    from tests.support.tally import Tally

pytestmark = pytest.mark.reliability


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.json")), ids=lambda p: p.stem)
def test_no_document_is_falsely_proven(path: Path, tally: Tally) -> None:
    case: dict[str, Any] = json.loads(path.read_text())
    verdict = trust.analyse(substitute(case["policy"])).verdict
    false_proof = verdict == "requires-mfa" and case["expected"] != "requires-mfa"
    tally.trust_policy(path.stem, false_proof=false_proof, wrong=verdict != case["expected"])
    assert not false_proof, f"{path.stem}: proven, but it is {case['expected']}"
    assert verdict == case["expected"]
