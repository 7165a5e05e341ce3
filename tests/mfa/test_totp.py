"""TOTP timing with an injected clock: no test here waits for a real window."""

from __future__ import annotations

import pyotp
import pytest

from sts_mfa.errors import CodeRefused
from sts_mfa.mfa import codes, totp
from tests.support.clock import FakeClock

SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_codes_match_pyotp_for_the_same_step() -> None:
    t = 1_800_000_000.0
    assert totp.code_for_step(SEED, totp.step_at(t)) == pyotp.TOTP(SEED).at(t)


def test_enable_codes_are_the_previous_and_current_window() -> None:
    t = 1_800_000_010.0
    c1, c2, step = totp.enable_codes(SEED, t)
    assert step == totp.step_at(t)
    assert c1 == pyotp.TOTP(SEED).at(t - 30)
    assert c2 == pyotp.TOTP(SEED).at(t)


def test_software_token_does_not_wait_when_the_window_is_fresh() -> None:
    clock = FakeClock(1_800_000_005.0)
    planned = totp.next_software_code(SEED, totp.step_at(clock.now()) - 1, clock)
    assert planned.waited == 0
    assert planned.step == totp.step_at(1_800_000_005.0)


def test_software_token_never_resends_a_step_and_waits_for_the_next_window() -> None:
    clock = FakeClock(1_800_000_005.0)  # 5 s into its window: 25 s to go
    used = totp.step_at(clock.now())
    ticks: list[float] = []
    planned = totp.next_software_code(SEED, used, clock, on_wait=ticks.append)
    assert planned.step == used + 1
    assert planned.code == pyotp.TOTP(SEED).at(totp.step_start(used + 1))
    assert 25 <= planned.waited <= 26
    assert ticks[0] == pytest.approx(25.0)  # the countdown starts at the real remaining time
    assert len(ticks) >= 25  # ...and ticks about once a second


def test_typed_code_equal_to_the_last_one_is_refused_locally() -> None:
    with pytest.raises(CodeRefused, match="already used 10 s ago"):
        totp.check_typed_code("123456", "123456", 1000.0, 1010.0)


def test_same_digits_much_later_are_a_new_code() -> None:
    totp.check_typed_code("123456", "123456", 1000.0, 1000.0 + totp.TYPED_CODE_MEMORY_SECONDS + 1)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("12345", "exactly 6 digits; '12345' has 5"),
        ("1234567", "has 7"),
        ("12345a", "other characters"),
        ("abcdef", "other characters"),
        ("", "got nothing"),
        ("\uff11\uff12\uff13\uff14\uff15\uff16", "other characters"),  # full-width digits: not ASCII
    ],
)
def test_malformed_codes_are_explained(text: str, problem: str) -> None:
    assert problem in (codes.code_problem(text) or "")


@pytest.mark.parametrize("text", ["123456", "123 456", "123-456", " 123456\n"])
def test_well_formed_codes(text: str) -> None:
    assert codes.code_problem(text) is None
    assert codes.normalize_code(text.strip()) == "123456"
