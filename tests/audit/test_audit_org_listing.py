"""The organization's accounts as ListAccounts gives them, read as hostile input; the ordered fan-out.

`list_accounts` is given a stand-in Organizations client that answers pages as written
here: empty pages with a token (AWS says they happen), tokens that repeat or never end,
IDs that are not 12 digits, the same account twice. `fanout.ordered` runs real threads
with work that finishes in a scrambled order.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest

from sts_mfa.audit import org_accounts
from sts_mfa.audit.fanout import ordered
from sts_mfa.audit.org_accounts import list_accounts
from sts_mfa.errors import AwsError


class Pages:
    """An Organizations client answering ListAccounts with these pages, in order (then the last again)."""

    def __init__(self, *pages: dict[str, Any]) -> None:
        self.pages = list(pages)
        self.calls: list[dict[str, Any]] = []

    def list_accounts(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return self.pages[min(len(self.calls), len(self.pages)) - 1]


def account(number: int, state: str = "ACTIVE", **fields: Any) -> dict[str, Any]:
    return {"Id": f"{number:012d}", "Name": f"account-{number}", "Status": state, "State": state, **fields}


def test_empty_pages_with_a_token_are_not_the_end() -> None:
    client = Pages(
        {"Accounts": [], "NextToken": "a"},
        {"Accounts": [account(1), account(2)], "NextToken": "b"},
        {"Accounts": [], "NextToken": "c"},
        {"Accounts": [account(3)]},
    )
    listing = list_accounts(client)
    assert [a.id for a in listing.active] == ["000000000001", "000000000002", "000000000003"]
    assert listing.pages == 4
    assert [c.get("NextToken") for c in client.calls] == [None, "a", "b", "c"]
    assert all(c["MaxResults"] == 20 for c in client.calls)


def test_only_active_accounts_are_audited_the_others_counted() -> None:
    listing = list_accounts(
        Pages({"Accounts": [account(1), account(2, "SUSPENDED"), account(3, "PENDING_CLOSURE"), account(4)]})
    )
    assert [a.id for a in listing.active] == ["000000000001", "000000000004"]
    assert listing.inactive() == {"SUSPENDED": 1, "PENDING_CLOSURE": 1}


def test_state_is_read_before_the_older_status() -> None:
    closed = {"Id": "000000000005", "Name": "gone", "Status": "ACTIVE", "State": "CLOSED"}
    old = {"Id": "000000000006", "Name": "old", "Status": "ACTIVE"}
    listing = list_accounts(Pages({"Accounts": [closed, old]}))
    assert [(a.id, a.state) for a in listing.accounts] == [
        ("000000000005", "CLOSED"),
        ("000000000006", "ACTIVE"),
    ]


def test_an_account_listed_twice_is_audited_once_active_if_any_listing_says_so() -> None:
    client = Pages(
        {"Accounts": [account(1, "SUSPENDED"), account(2)], "NextToken": "a"},
        {"Accounts": [account(2), account(1)]},
    )
    listing = list_accounts(client)
    assert [(a.id, a.state) for a in listing.accounts] == [
        ("000000000001", "ACTIVE"),
        ("000000000002", "ACTIVE"),
    ]


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        ({"Id": "12345", "Name": "short"}, "not 12 digits: '12345'"),
        ({"Id": 123456789012, "Name": "a number"}, "not 12 digits: 123456789012"),
        ({"Id": "12345678901x", "Name": "a letter"}, "not 12 digits"),
        ({"Id": "\uff11" * 12, "Name": "fullwidth digits"}, "not 12 digits"),
        ({"Name": "no id"}, "not 12 digits: None"),
        ("not an object", "an entry that is not an account"),
    ],
)
def test_an_account_it_cannot_name_ends_the_run(entry: object, said: str) -> None:
    with pytest.raises(AwsError) as info:
        list_accounts(Pages({"Accounts": [account(1), entry]}))
    assert said in str(info.value) and "ListAccounts" in str(info.value)


@pytest.mark.parametrize("answer", [{}, {"Accounts": None}, {"Accounts": "all of them"}])
def test_an_answer_without_an_accounts_list_ends_the_run(answer: dict[str, Any]) -> None:
    with pytest.raises(AwsError, match="no Accounts list"):
        list_accounts(Pages(answer))


def test_a_token_that_repeats_ends_the_run() -> None:
    client = Pages({"Accounts": [account(1)], "NextToken": "same"}, {"Accounts": [], "NextToken": "same"})
    with pytest.raises(AwsError, match="NextToken repeats or never ends"):
        list_accounts(client)
    assert len(client.calls) == 2


class Endless:
    """A new token on every page, for ever."""

    def __init__(self) -> None:
        self.calls = 0

    def list_accounts(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        return {"Accounts": [], "NextToken": f"token-{self.calls}"}


def test_pages_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(org_accounts, "MAX_PAGES", 50)
    client = Endless()
    with pytest.raises(AwsError, match="never ends"):
        list_accounts(client)
    assert client.calls == 50


def test_names_are_one_line_and_bounded() -> None:
    hostile = account(1, Name="evil\x1b[2J\nname" + "x" * 500)
    (listed,) = list_accounts(Pages({"Accounts": [hostile]})).accounts
    assert "\x1b" not in listed.name and "\n" not in listed.name and len(listed.name) == 128


# --- the fan-out -------------------------------------------------------------------------------


def test_results_come_in_the_items_order_whatever_order_they_finish_in() -> None:
    delays = [random.Random(n).random() / 50 for n in range(40)]
    finished: list[int] = []
    emitted: list[int] = []

    def work(n: int) -> int:
        time.sleep(delays[n])
        return n

    ordered(range(40), work, concurrency=8, done=finished.append, emit=emitted.append)
    assert emitted == list(range(40))
    assert sorted(finished) == list(range(40)) and finished != emitted  # progress as they finish


def test_at_most_a_window_of_results_is_held_or_in_flight() -> None:
    lock = threading.Lock()
    started = 0
    emitted = 0
    most = 0
    slow_first = threading.Event()

    def work(n: int) -> int:
        nonlocal started, most
        with lock:
            started += 1
            most = max(most, started - emitted)
        if n == 0:
            slow_first.wait(0.3)  # the head holds back the emitting; the window holds back the rest
        return n

    def emit(n: int) -> None:
        nonlocal emitted
        with lock:
            emitted += 1

    ordered(range(100), work, concurrency=4, done=lambda n: None, emit=emit, window=10)
    assert emitted == 100 and most <= 10


def test_a_failure_in_the_work_ends_the_run() -> None:
    def work(n: int) -> int:
        if n == 3:
            raise RuntimeError("a bug, not an unreadable account")
        return n

    emitted: list[int] = []
    with pytest.raises(RuntimeError, match="a bug"):
        ordered(range(1000), work, concurrency=2, done=lambda n: None, emit=emitted.append)
    assert emitted == [0, 1, 2]
