"""Propagation delays, throttling and the retry policy: waits are bounded, polls are tight, retries safe.

Time is the shared FakeClock: the tool's polling sleeps advance it, so "how long
did the chain take" is exact and costs nothing. The claims:

- with every new thing slow to propagate (D seconds), setup -> check-deny -> assume ->
  list-buckets -> teardown succeeds and the clock moves at most D + 2 s plus the TOTP
  wait: no fixed sleeps;
- something that never propagates ends the bounded wait with one line naming it (exit 1);
- 20 % of requests throttled: the chain still succeeds;
- botocore retries only what is safe: MFA-spending calls only on throttling, others also
  on 5xx and timeouts; "connection refused" fails at once (a local HTTP server counts);
- a code refused while the role propagates is never re-sent; no future step is ever sent.
"""

from __future__ import annotations

import re
import threading
import time
import types
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import botocore.endpoint
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from sts_mfa import scenario
from sts_mfa.aws.clients import Aws, AwsConfig, Keys
from sts_mfa.mfa.totp import code_for_step, step_at
from sts_mfa.progress import RecordingReporter
from sts_mfa.sandbox import Faults, Sandbox
from sts_mfa.state.document import load, transaction
from tests.support.cli import Cli, assert_one_error_line
from tests.support.clock import FakeClock
from tests.support.sandbox import is_clean, residue

if TYPE_CHECKING:
    from tests.support.tally import Tally

pytestmark = pytest.mark.reliability

# ----------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Sent:
    at: float  # the tool's clock when the AssumeRole call was made
    code: str


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch, shared_clock: FakeClock) -> list[Sent]:
    """Every TokenCode the tool passes to AssumeRole, with the time it did (a botocore event hook)."""
    calls: list[Sent] = []
    original = Aws._make

    def make(self: Aws, service: str, *args: Any, **kwargs: Any) -> Any:
        client = original(self, service, *args, **kwargs)
        if service == "sts":

            def spy(params: dict[str, Any], **_: Any) -> None:
                if params.get("TokenCode"):
                    calls.append(Sent(shared_clock.now(), str(params["TokenCode"])))

            client.meta.events.register("provide-client-params.sts.AssumeRole", spy)
        return client

    monkeypatch.setattr(Aws, "_make", make)
    return calls


def steps_of(seed: str, calls: list[Sent]) -> list[int]:
    """The TOTP time-step of each code sent; asserts each is the step current when it was sent."""
    steps = []
    for call in calls:
        now = step_at(call.at)
        matches = [s for s in (now - 1, now, now + 1) if code_for_step(seed, s) == call.code]
        assert matches == [now], f"code sent at step {now} is for step(s) {matches}: not the current one"
        steps.append(now)
    return steps


@pytest.fixture
def fake_backoff(monkeypatch: pytest.MonkeyPatch, shared_clock: FakeClock) -> list[float]:
    """botocore's retry backoff sleeps on the fake clock instead of the real one."""
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        shared_clock.sleep(seconds)

    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=sleep))
    return slept


def context(sb: Sandbox, clock: FakeClock, wait_timeout: float = 90.0) -> scenario.Context:
    aws = Aws(AwsConfig(region=sb.region, endpoint_url=sb.endpoint), now=clock.now)
    return scenario.Context(aws=aws, clock=clock, report=RecordingReporter(), wait_timeout=wait_timeout)


# --------------------------------------------------------------- slow propagation


@pytest.mark.parametrize("delay", [5.0, 40.0], ids=["D=5s", "D=40s-longer-than-a-window"])
def test_the_whole_chain_waits_only_as_long_as_propagation_takes(
    sb: Sandbox, shared_clock: FakeClock, tmp_path: Path, sent: list[Sent], delay: float
) -> None:
    """Keys, users-as-principals and roles all take D s to propagate. Every step succeeds, and the
    clock moves at most D + 2 s beyond the TOTP wait (the assume's `waited`). With D = 40 s the
    first MFA attempt meets a role that is not ready yet; the next attempt uses the next window."""
    sb.set_faults(Faults(key_delay=delay, role_delay=delay, principal_delay=delay))
    clock = shared_clock
    ctx = context(sb, clock)
    path = tmp_path / "state.json"
    start = clock.now()
    with transaction(path) as txn:
        scenario.setup(ctx, txn, mode="software", phone=None, endpoint=sb.endpoint)
    state = load(path)
    assert state is not None
    assert scenario.check_deny(ctx, state).proven
    with transaction(path) as txn:
        assumed = scenario.assume(ctx, txn, ask_code=None)
    state = load(path)
    assert state is not None
    buckets = scenario.list_buckets(ctx, state, assumed.session)
    assert sorted(b.name for b in buckets) == ["logs-111111111111", "reports-111111111111"]
    with transaction(path) as txn:
        scenario.teardown(ctx, txn)
    elapsed = clock.now() - start

    assert elapsed <= delay + 2.0 + assumed.waited, (elapsed, assumed.waited)
    assert is_clean(residue(sb))
    assert state.seed is not None
    steps = steps_of(state.seed, sent)
    assert steps == sorted(set(steps)), f"a step was sent twice: {steps}"
    assume_calls = [r for r in sb.requests if r.action == "AssumeRole"]
    assert len(steps) == len(assume_calls) - 1  # every call but check-deny's carried its own step


def test_a_code_refused_while_the_role_propagates_is_never_resent(
    srun: Cli, sb: Sandbox, sent: list[Sent]
) -> None:
    """`assume` right after setup, the role not assumable for 40 s: the first attempt is refused
    (AWS has read, and spent, its code); the tool waits for the next window and sends that step,
    never the same one twice, never one ahead of the clock."""
    assert srun("setup", "--software-token").exit_code == 0
    state = load(srun.state)
    assert state is not None and state.seed and state.mfa_device and state.mfa_device.serial
    serial = state.mfa_device.serial
    enabled_step = sb.last_accepted_step(serial)
    sb.set_faults(Faults(role_delay=40))  # measured from CreateRole, which just happened
    result = srun("assume")
    assert result.exit_code == 0, result.output
    steps = steps_of(state.seed, sent)
    assert len(steps) == 2 and steps[1] == steps[0] + 1, steps
    assert enabled_step is not None and steps[0] > enabled_step
    assert [r.status for r in sb.requests if r.action == "AssumeRole"] == [403, 200]
    after = load(srun.state)
    assert after is not None
    assert after.totp[serial].last_step == sb.last_accepted_step(serial) == steps[-1]


@pytest.mark.parametrize(
    ("faults", "command", "what"),
    [
        pytest.param(
            Faults(principal_delay=10_000),
            ["setup", "--software-token", "--wait-timeout", "5"],
            r"IAM to accept the new user .* as a trust-policy principal",
            id="user-never-a-principal",
        ),
        pytest.param(
            Faults(key_delay=10_000),
            ["setup", "--software-token", "--wait-timeout", "5"],
            r"the new access key to work at STS",
            id="key-never-works",
        ),
    ],
)
def test_what_never_propagates_ends_the_bounded_wait_with_one_line_naming_it(
    srun: Cli,
    sb: Sandbox,
    shared_clock: FakeClock,
    tally: Tally,
    faults: Faults,
    command: list[str],
    what: str,
) -> None:
    """Exit 1 after about --wait-timeout seconds, one line saying it gave up and on what; then a
    clean teardown."""
    sb.set_faults(faults)
    start = shared_clock.now()
    result = srun(*command)
    tally.output(f"never propagates: {what}", result.output)
    line = assert_one_error_line(result, 1)
    assert re.search(rf"gave up after \d+ s waiting for {what}", line), line
    assert shared_clock.now() - start <= 5 + 1.5
    sb.set_faults(Faults())
    assert srun("teardown").exit_code == 0
    assert is_clean(residue(sb))


def test_a_role_that_never_becomes_assumable_ends_assume_with_one_line_naming_it(
    srun: Cli, sb: Sandbox, shared_clock: FakeClock, sent: list[Sent]
) -> None:
    """The new role stays unassumable: `assume` retries one code per window for its wait (90 s), then
    exits 1 with one line that names the role and says it gave up waiting for it to propagate."""
    assert srun("setup", "--software-token").exit_code == 0
    state = load(srun.state)
    assert state is not None and state.role is not None
    sb.set_faults(Faults(role_delay=10_000))
    start = shared_clock.now()
    result = srun("assume")
    line = assert_one_error_line(result, 1)
    assert len(sent) <= 90 // 30 + 2, "more codes spent than the wait allows"
    assert shared_clock.now() - start <= 90 + 30 + 2
    assert state.role.arn is not None and state.role.arn in line
    assert re.search(r"gave up|waited|propagat", line), line


# --------------------------------------------------------------------- throttling


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_whole_chain_succeeds_with_a_fifth_of_requests_throttled(
    srun: Cli, sb: Sandbox, fake_backoff: list[float], tally: Tally, seed: int
) -> None:
    """throttle_rate=0.2 (seeded): every step exits 0, nothing is left, and throttling did happen."""
    sb.set_faults(Faults(throttle_rate=0.2, seed=seed))
    for args in (
        ["setup", "--software-token"],
        ["check-deny"],
        ["assume"],
        ["list-buckets", "--json"],
        ["status"],
        ["teardown"],
    ):
        result = srun(*args)
        tally.output(f"throttled {' '.join(args)}", result.output)
        assert result.exit_code == 0, (args, result.output)
    throttled = [r for r in sb.requests if r.error_code in ("Throttling", "SlowDown")]
    assert throttled, "the sandbox throttled nothing: the test proves nothing"
    assert len(fake_backoff) >= len(throttled)
    sb.set_faults(Faults())
    assert is_clean(residue(sb))


# ------------------------------------------------------------ what botocore retries


class Answer:
    """How the local server answers (an AWS query-protocol error document)."""

    def __init__(self, status: int, code: str, delay: float = 0.0) -> None:
        self.status, self.code, self.delay = status, code, delay


class CountingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.attempts: Counter[str] = Counter()
        self.answer = Answer(500, "InternalFailure")
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: CountingServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        action = parse_qs(body).get("Action", ["?"])[0]
        with self.server.lock:
            self.server.attempts[action] += 1
        answer = self.server.answer
        if answer.delay:
            time.sleep(answer.delay)
        payload = (
            "<ErrorResponse><Error><Type>Receiver</Type>"
            f"<Code>{answer.code}</Code><Message>injected</Message></Error>"
            "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
        ).encode()
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (read timeout)
            pass

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[CountingServer]:
    srv = CountingServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


ATTEMPTS = 4
KEYS = Keys("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
MFA = {"SerialNumber": "arn:aws:iam::111111111111:mfa/d", "TokenCode": "123456"}
ROLE = {"RoleArn": "arn:aws:iam::111111111111:role/r", "RoleSessionName": "retry-test"}


def calls(aws: Aws) -> dict[str, Any]:
    """One call of each kind, by (action, spends an MFA code)."""
    return {
        "CreateUser": lambda: aws.iam().create_user(UserName="u"),
        "ListUsers": lambda: aws.iam().list_users(),
        "EnableMFADevice+mfa": lambda: aws.iam_for_mfa().enable_mfa_device(
            UserName="u",
            SerialNumber=MFA["SerialNumber"],
            AuthenticationCode1="123456",
            AuthenticationCode2="654321",
        ),
        "GetCallerIdentity": lambda: aws.sts_with(KEYS).get_caller_identity(),
        "AssumeRole": lambda: aws.sts_with(KEYS).assume_role(**ROLE),
        "AssumeRole+mfa": lambda: aws.sts_with(KEYS, spends_mfa_code=True).assume_role(**ROLE, **MFA),
    }


SAFE_TO_RETRY = {"CreateUser", "ListUsers", "GetCallerIdentity", "AssumeRole"}


@pytest.mark.parametrize(
    ("answer", "retried"),
    [
        pytest.param(Answer(500, "InternalFailure"), SAFE_TO_RETRY, id="500"),
        pytest.param(Answer(503, "ServiceUnavailable"), SAFE_TO_RETRY, id="503"),
        pytest.param(
            Answer(400, "Throttling"),
            {*SAFE_TO_RETRY, "EnableMFADevice+mfa", "AssumeRole+mfa"},
            id="throttled",
        ),
        pytest.param(Answer(500, "InternalFailure", delay=0.4), SAFE_TO_RETRY, id="read-timeout"),
    ],
)
@pytest.mark.parametrize(
    "call",
    ["CreateUser", "ListUsers", "EnableMFADevice+mfa", "GetCallerIdentity", "AssumeRole", "AssumeRole+mfa"],
)
def test_retries_only_what_is_safe_to_retry(
    server: CountingServer,
    fake_backoff: list[float],
    monkeypatch: pytest.MonkeyPatch,
    answer: Answer,
    retried: set[str],
    call: str,
) -> None:
    """A call that spends an MFA code is sent once on a 5xx or a timeout (AWS may have consumed the
    code) and retried only when throttled (refused before it was read); every other call is retried
    up to max_attempts on all of these."""
    monkeypatch.setattr("sts_mfa.aws.clients.READ_TIMEOUT", 0.1)
    aws = Aws(AwsConfig(region="us-east-1", endpoint_url=server.url, admin_keys=KEYS, max_attempts=ATTEMPTS))
    server.answer = answer
    server.attempts.clear()
    with pytest.raises((ClientError, ReadTimeoutError)):
        calls(aws)[call]()
    action = call.partition("+")[0]
    expected = ATTEMPTS if call in retried else 1
    assert server.attempts[action] == expected
    assert aws.requests[action] == expected


def test_connection_refused_fails_at_once_without_retries(fake_backoff: list[float]) -> None:
    """Nothing listens on port 1: one attempt, no backoff, well under a second."""
    aws = Aws(AwsConfig(region="us-east-1", endpoint_url="http://127.0.0.1:1", admin_keys=KEYS))
    start = time.monotonic()
    with pytest.raises(EndpointConnectionError):
        aws.sts_with(KEYS).get_caller_identity()
    assert time.monotonic() - start < 1.0
    assert aws.requests["GetCallerIdentity"] == 1
    assert fake_backoff == []
