"""Rate limiter, call budget and retry policy, on a fake clock (no real waiting)."""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_nexus.errors import QuotaExhausted
from data_nexus.providers.eodhd import (
    CallBudget,
    InMemoryCallBudget,
    RateLimiter,
    RetryPolicy,
    TokenBucket,
    Unlimited,
    bulk_weight,
    next_gmt_midnight,
    parse_retry_after,
)


class FakeClock:
    """Monotonic time that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)


def stamps(rate_limit: int, window: float, n: int, workers: int = 1) -> list[float]:
    clock = FakeClock()
    bucket = TokenBucket(rate_limit, window, clock=clock, sleep=clock.sleep)
    times: list[float] = []

    async def worker(count: int) -> None:
        for _ in range(count):
            await bucket.acquire()
            times.append(clock())

    async def main() -> None:
        share, extra = divmod(n, workers)
        await asyncio.gather(*(worker(share + (i < extra)) for i in range(workers)))

    asyncio.run(main())
    return sorted(times)


def max_in_any_window(times: list[float], window: float) -> int:
    """Most acquisitions in any closed interval [t, t + window]."""
    return max(bisect.bisect_right(times, t + window) - i for i, t in enumerate(times))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 1500),
    st.sampled_from([1.0, 4.0, 5.0, 60.0]),
    st.integers(1, 4),
)
def test_never_more_than_r_in_any_sliding_window(rate: int, window: float, workers: int) -> None:
    times = stamps(rate, window, 3 * rate + 5, workers)
    assert max_in_any_window(times, window) <= rate


@pytest.mark.parametrize(("rate", "window"), [(1000, 60.0), (40, 4.0), (200, 5.0)])
def test_sustains_at_least_95_percent_of_the_limit(rate: int, window: float) -> None:
    times = stamps(rate, window, 10 * rate)
    achieved = (len(times) - 1) / (times[-1] - times[0]) * window
    assert achieved >= 0.95 * rate


def test_default_bucket_is_1000_per_minute_with_a_small_burst() -> None:
    bucket = TokenBucket()
    assert (bucket.rate_limit, bucket.window, bucket.capacity) == (1000, 60.0, 20)
    assert isinstance(bucket, RateLimiter) and isinstance(Unlimited(), RateLimiter)


def test_bad_limiter_settings() -> None:
    with pytest.raises(ValueError, match="rate_limit"):
        TokenBucket(0)
    with pytest.raises(ValueError, match="headroom"):
        TokenBucket(10, headroom=1.5)


def test_budget_refuses_before_exceeding_and_resets_at_gmt_midnight() -> None:
    now = [dt.datetime(2024, 5, 1, 23, 59, tzinfo=dt.UTC)]
    budget = InMemoryCallBudget(150, already_spent=40, now=lambda: now[0])
    assert isinstance(budget, CallBudget)

    async def main() -> None:
        await budget.charge(bulk_weight(10))  # 110 → 150 spent
        with pytest.raises(QuotaExhausted) as info:
            await budget.charge(1)
        assert info.value.resets_at == dt.datetime(2024, 5, 2, tzinfo=dt.UTC)
        assert "GMT midnight" in str(info.value)
        assert budget.spent == 150  # nothing reserved by the refusal
        await budget.refund(100)
        await budget.charge(100)
        now[0] = dt.datetime(2024, 5, 2, 0, 0, 1, tzinfo=dt.UTC)
        await budget.charge(150)  # a new GMT day
        assert budget.spent == 150

    asyncio.run(main())


def test_unlimited_budget_only_counts() -> None:
    budget = InMemoryCallBudget()
    asyncio.run(budget.charge(10**9))
    assert budget.spent == 10**9


def test_next_gmt_midnight() -> None:
    cet = dt.timezone(dt.timedelta(hours=1))
    assert next_gmt_midnight(dt.datetime(2024, 12, 31, 0, 30, tzinfo=cet)) == dt.datetime(
        2024, 12, 31, tzinfo=dt.UTC
    )
    assert next_gmt_midnight(dt.datetime(2024, 12, 31, 23, 0)) == dt.datetime(
        2025, 1, 1, tzinfo=dt.UTC
    )


NOW = dt.datetime(2015, 10, 21, 7, 28, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("1.5", 1.5),
        ("-4", 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("Wed, 21 Oct 2015 07:29:00 -0000", 60.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_retry_after_both_forms(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, NOW) == expected


def test_backoff_is_exponential_full_jitter_and_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    assert [policy.backoff(n, 0.999999) for n in range(1, 7)] == pytest.approx(
        [0.5, 1.0, 2.0, 4.0, 4.0, 4.0], rel=1e-5
    )
    assert policy.backoff(3, 0.0) == 0.0
    assert policy.backoff(1000, 0.5) == 2.0
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
