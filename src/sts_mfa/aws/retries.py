"""Which failed calls are tried again: botocore's own standard-mode parts, chosen call by call.

Throttling always (the request was refused before it took effect); 5xx, timeouts and
dropped connections only for calls that do not spend an MFA code: AssumeRole with a
TokenCode and EnableMFADevice are retried only when throttled, since a second try after
a lost answer would send a code AWS may already have consumed. "Connection refused" is
not retried at all: the endpoint is down or wrong, and the user should hear it at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.exceptions as bx
from botocore.retries import quota, standard


def install_retry_policy(client: Any, max_attempts: int, *, spends_mfa_code: bool) -> None:
    """Replace the client's standard retry checker with one that retries only what is safe.

    Built from botocore's own standard-mode pieces (backoff with jitter, retry
    quota, throttling detection); only the choice of retryable conditions is ours.
    """
    service = client.meta.service_model.service_id.hyphenize()
    events = client.meta.events
    events.unregister(f"needs-retry.{service}", unique_id=f"retry-config-{service}")
    checkers: list[standard.BaseRetryableChecker] = [standard.ThrottledRetryableChecker()]
    status_checker = getattr(standard, "ThrottlingStatusCodeChecker", None)  # botocore >= 1.40
    if status_checker is not None:
        checkers.append(status_checker())
    if not spends_mfa_code:
        checkers += [
            standard.TransientRetryableChecker(
                transient_exception_cls=(
                    bx.ConnectionClosedError,
                    bx.ReadTimeoutError,
                    bx.ConnectTimeoutError,
                )
            ),
            standard.ModeledRetryableChecker(),
        ]
    adapter = standard.RetryEventAdapter()
    detector = standard.ThrottlingErrorDetector(adapter)
    retry_quota = standard.RetryQuotaChecker(quota.RetryQuota(), detector)
    handler = standard.RetryHandler(
        retry_policy=standard.RetryPolicy(
            retry_checker=_AllOf(
                standard.MaxAttemptsChecker(max_attempts), standard.OrRetryChecker(checkers)
            ),
            retry_backoff=standard.ExponentialBackoff(
                max_backoff=5, service_name=service, throttling_detector=detector
            ),
        ),
        retry_event_adapter=adapter,
        retry_quota=retry_quota,  # type: ignore[arg-type]  # botocore passes the checker too
        service_name=service,
    )
    events.register(f"needs-retry.{service}", handler.needs_retry, unique_id=f"sts-mfa-retry-{service}")


class _AllOf(standard.BaseRetryableChecker):
    def __init__(self, *checkers: standard.BaseRetryableChecker) -> None:
        self._checkers = checkers

    def is_retryable(self, context: Any) -> bool:
        return all(c.is_retryable(context) for c in self._checkers)


def on_throttle(client: Any, callback: Callable[[], None]) -> None:
    """Call `callback` for every answer botocore's standard mode takes for throttling.

    The same test the retry policy applies (`ThrottledRetryableChecker`: Throttling,
    TooManyRequestsException, SlowDown, ...), so what is counted is what is backed off from.
    """
    service = client.meta.service_model.service_id.hyphenize()
    adapter, checker = standard.RetryEventAdapter(), standard.ThrottledRetryableChecker()

    def count(**kwargs: Any) -> None:
        if kwargs.get("response") is None:
            return  # no answer at all (a connection failure): not throttling
        if checker.is_retryable(adapter.create_retry_context(**kwargs)):
            callback()

    client.meta.events.register(f"needs-retry.{service}", count, unique_id=f"sts-mfa-throttles-{service}")
