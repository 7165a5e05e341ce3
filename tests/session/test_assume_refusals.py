"""What a refusal means when a one-time code was sent: `refusals.decide`, case by case.

The rules a code-spending call must follow: never resend a code AWS may have read;
resend one it refused before reading; the software token moves to a fresh window;
a typed code gets one more try, never a loop. And setup's `enable_refusal`.
"""

from __future__ import annotations

import pytest

from sts_mfa.mfa.refusals import KEY, ROLE, Decision, Failure, Next, Refusal, decide
from sts_mfa.scenario.mfa_device import enable_refusal

MFA = "MultiFactorAuthentication failed with invalid MFA one time pass code."
DENIED = "User: arn:aws:iam::1:user/u is not authorized to perform: sts:AssumeRole on resource: r"

CASES = [
    # (error, message, typed, can_wait, denials) -> decision
    (("AccessDenied", MFA, False, False, 0), Decision(Next.GIVE_UP, Failure.CODE_REFUSED)),
    (("AccessDenied", MFA, True, True, 0), Decision(Next.GIVE_UP, Failure.CODE_REFUSED)),
    (("AccessDenied", MFA, False, True, 0), Decision(Next.GIVE_UP, Failure.CODE_REFUSED)),
    # the code was spent by an attempt the new role was not ready for: a fresh window
    (("AccessDenied", MFA, False, True, 1), Decision(Next.NEXT_WINDOW)),
    (("AccessDenied", MFA, False, False, 1), Decision(Next.GIVE_UP, Failure.CODE_REFUSED)),
    (("AccessDenied", MFA, True, True, 1), Decision(Next.GIVE_UP, Failure.CODE_REFUSED)),
    # the role or policy is still propagating
    (
        ("AccessDenied", DENIED, False, True, 0),
        Decision(Next.NEXT_WINDOW, propagation=True, waiting_for=ROLE),
    ),
    (
        ("AccessDenied", DENIED, False, True, 3),
        Decision(Next.NEXT_WINDOW, propagation=True, waiting_for=ROLE),
    ),
    (
        ("AccessDenied", DENIED, True, True, 0),
        Decision(Next.SEND_AGAIN, pause=1.0, propagation=True, waiting_for=ROLE),
    ),
    (
        ("AccessDenied", DENIED, True, True, 1),
        Decision(Next.GIVE_UP, Failure.PROPAGATION, propagation=True, waiting_for=ROLE),
    ),
    (("AccessDenied", DENIED, False, False, 2), Decision(Next.GIVE_UP, Failure.PROPAGATION)),
    (("AccessDenied", DENIED, True, False, 0), Decision(Next.GIVE_UP, Failure.DENIED)),
    (("AccessDenied", DENIED, False, False, 0), Decision(Next.GIVE_UP, Failure.DENIED)),
    # a new access key STS does not know yet: refused before the code was read
    (
        ("InvalidClientTokenId", "invalid", True, True, 0),
        Decision(Next.SEND_AGAIN, pause=1.0, waiting_for=KEY),
    ),
    (
        ("InvalidAccessKeyId", "invalid", False, True, 2),
        Decision(Next.SEND_AGAIN, pause=1.0, waiting_for=KEY),
    ),
    (("InvalidClientTokenId", "invalid", False, False, 0), Decision(Next.GIVE_UP, Failure.STALE_KEY)),
    # anything else is not a refusal to act on
    (("Throttling", "Rate exceeded", False, True, 0), Decision(Next.GIVE_UP, Failure.OTHER)),
    ((None, "", True, True, 0), Decision(Next.GIVE_UP, Failure.OTHER)),
]


@pytest.mark.parametrize(("refusal", "expected"), CASES, ids=[f"{c[0][0]}-{i}" for i, c in enumerate(CASES)])
def test_what_a_refusal_means(refusal: tuple[str | None, str, bool, bool, int], expected: Decision) -> None:
    assert decide(Refusal(*refusal)) == expected


def test_a_typed_code_is_never_sent_more_than_twice() -> None:
    """Follow the decisions for a typed code while the role keeps propagating: two sends, then stop."""
    sends, denials = 0, 0
    while True:
        sends += 1
        decision = decide(Refusal("AccessDenied", DENIED, True, True, denials))
        denials += decision.propagation
        if decision.next is not Next.SEND_AGAIN:
            break
    assert sends == 2 and decision.failure is Failure.PROPAGATION


@pytest.mark.parametrize(
    ("code", "message", "outcome"),
    [
        ("EntityAlreadyExists", "MFA Device is already in use.", "already-enabled"),
        ("InvalidAuthenticationCode", "Authentication code for device is not valid.", "codes-refused"),
        ("AccessDenied", "Invalid authentication code", "codes-refused"),
        ("AccessDenied", "User is not authorized", "other"),
        ("NoSuchEntity", "VirtualMFADevice with serial number x doesn't exist.", "other"),
        (None, "", "other"),
    ],
)
def test_what_an_enable_refusal_means(code: str | None, message: str, outcome: str) -> None:
    assert enable_refusal(code, message) == outcome
