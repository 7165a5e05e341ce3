"""Fault injection: the failures real AWS produces that a careful tool must survive.

AWS is eventually consistent and occasionally slow or throttled; a tool that only
ever meets an instant, perfectly consistent endpoint will ship with the retry logic
untested. These knobs make the sandbox behave like AWS on a bad day, on purpose and
deterministically, so tests can flip them between steps. Everything is off by
default: a sandbox with `Faults()` is exactly as consistent as moto.

This module has no moto dependency so that `Faults` can be built (and sent over the
control API as JSON) without the sandbox extra installed.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

FailWhen = Literal["before", "after"]

_FIELDS = (
    "key_delay",
    "role_delay",
    "principal_delay",
    "throttle_rate",
    "seed",
    "fail",
    "session_seconds",
    "mfa_session_seconds",
    "latency",
)


@dataclass
class Faults:
    """What goes wrong, and when. Fields may be changed on the live object at runtime.

    key_delay: seconds after its CreateAccessKey during which a new access key is
        refused (`InvalidClientTokenId` at IAM/STS, `InvalidAccessKeyId` at S3), as a
        key that has not propagated yet is.
    role_delay: seconds after CreateRole during which AssumeRole on the new role is
        refused with the same `AccessDenied` a trust-policy refusal gives.
    principal_delay: seconds after CreateUser during which naming that user as a
        principal in CreateRole/UpdateAssumeRolePolicy fails with
        `MalformedPolicyDocument` "Invalid principal in policy".
    throttle_rate: fraction (0..1) of requests answered with `Throttling` (IAM/STS,
        HTTP 400) or `SlowDown` (S3, HTTP 503) before they reach moto; which ones is
        decided by a PRNG seeded with `seed`, so a run is repeatable.
    fail: {n: "before" | "after"}: the n-th mutating call (1-based, counted from when
        this Faults was installed; mutating = IAM actions not named Get*/List*/
        Simulate*/Generate*, and S3 PUT/POST/DELETE; STS calls never count) fails
        with `InjectedFault` (HTTP 400, which SDKs do not retry, so the client gives
        up as if it had crashed). "before": the call never reaches moto. "after": it
        is applied, then its response is replaced by the error, which is the case
        that leaves a resource behind. Counted are the
        mutating calls that pass the sandbox's own checks (a call refused for auth,
        permissions or a conflict, or throttled, never reaches moto either way).
    session_seconds: when set, every session issued from then on (AssumeRole,
        GetSessionToken) expires after this many seconds, whatever DurationSeconds
        asked (its `Expiration` says so); for trying credential refresh without
        waiting an hour. None (the default): sessions last as long as asked.
    mfa_session_seconds: when set, sessions issued by GetSessionToken (MFA sessions)
        expire after this many seconds instead, overriding `session_seconds` for them.
        On AWS the two lifetimes differ: a role assumed with an MFA session lasts at
        most an hour, the MFA session up to 36 hours (STS API reference,
        GetSessionToken and AssumeRole), so a tool renews role sessions many times on
        one MFA code. With this a test sees role sessions expire while the MFA session
        that renews them lasts. None (the default): as `session_seconds` says.
    latency: seconds every AWS request waits before it is served, in real time and outside
        the lock that serializes the sandbox, as a round trip to AWS does: with it, a client
        that keeps several requests in flight finishes sooner, as it would against AWS.
    All delays but `latency` are measured with the sandbox's clock.
    """

    key_delay: float = 0.0
    role_delay: float = 0.0
    principal_delay: float = 0.0
    throttle_rate: float = 0.0
    seed: int = 0
    fail: dict[int, FailWhen] = field(default_factory=dict)
    session_seconds: float | None = None
    mfa_session_seconds: float | None = None
    latency: float = 0.0

    def __post_init__(self) -> None:
        for name in ("key_delay", "role_delay", "principal_delay", "latency"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value < 0:
                raise ValueError(f"Faults.{name} must be a number of seconds >= 0, got {value!r}")
        for name in ("session_seconds", "mfa_session_seconds"):
            lifetime = getattr(self, name)
            if lifetime is not None and (
                isinstance(lifetime, bool)
                or not isinstance(lifetime, int | float)
                or not (math.isfinite(lifetime) and lifetime >= 0)
            ):
                raise ValueError(f"Faults.{name} must be None or a finite number >= 0, got {lifetime!r}")
        if not isinstance(self.throttle_rate, int | float) or not 0 <= self.throttle_rate <= 1:
            raise ValueError(f"Faults.throttle_rate must be within 0..1, got {self.throttle_rate!r}")
        cleaned: dict[int, FailWhen] = {}
        for key, when in dict(self.fail).items():
            index = int(key)
            if index < 1:
                raise ValueError(f"Faults.fail keys are 1-based call numbers, got {key!r}")
            if when not in ("before", "after"):
                raise ValueError(f"Faults.fail values must be 'before' or 'after', got {when!r}")
            cleaned[index] = when
        self.fail = cleaned

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (fail keys become strings, as JSON object keys must)."""
        data = asdict(self)
        data["fail"] = {str(k): v for k, v in self.fail.items()}
        return data

    @classmethod
    def from_json(cls, data: object) -> Faults:
        """Build from the control API's JSON body; unknown keys are an error, not ignored."""
        if not isinstance(data, dict):
            raise ValueError("faults must be a JSON object")
        unknown = set(data) - set(_FIELDS)
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        fail_raw = data.get("fail", {})
        if not isinstance(fail_raw, dict):
            raise ValueError("fail must be an object mapping call numbers to 'before'/'after'")
        kwargs = {k: v for k, v in data.items() if k != "fail"}
        try:
            fail = {int(k): cast(FailWhen, v) for k, v in fail_raw.items()}
            return cls(**kwargs, fail=fail)
        except TypeError as exc:  # a wrong type for a field
            raise ValueError(str(exc)) from exc


class FaultState:
    """The runtime side of a Faults: the PRNG and the mutating-call counter.

    Kept apart from `Faults` so the user-facing dataclass stays plain data; replaced
    whenever a new Faults is installed, which is what resets the counter.
    """

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        # Not for security: a repeatable choice of which requests to throttle.
        self._rng = random.Random(faults.seed)  # noqa: S311
        self.mutating_calls = 0

    def throttle_now(self) -> bool:
        draw = self._rng.random()
        return draw < self.faults.throttle_rate

    def next_mutation(self) -> FailWhen | None:
        self.mutating_calls += 1
        return self.faults.fail.get(self.mutating_calls)
