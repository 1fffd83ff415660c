"""Map an EODHD error response to the exception tree (pure).

=======  ==============================================================================
status   outcome
=======  ==============================================================================
401      :class:`AuthFailed` (stops the run)
402      :class:`QuotaExhausted`, ``resets_at`` = the next GMT midnight (stops the run)
403      :class:`NotInPlan` (:class:`BulkUnavailable` for the bulk endpoint)
404      :class:`NotFound` naming the symbol (:class:`BulkUnavailable` for bulk, because
         EODHD has answered 404 to plans without it)
422      :class:`BadRequest` with the provider's JSON ``errors`` summarised
429      :class:`RateLimited` — *transient*, retried, honouring ``Retry-After``
5xx      :class:`ProviderUnavailable` — *transient*, retried
other    :class:`BadRequest` (4xx) or :class:`BadResponse` (1xx/3xx)
=======  ==============================================================================

Bodies are quoted only as short excerpts redacted with the token: the real API's HTML 404
page echoes the request URL, key included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from data_nexus.errors import (
    AuthFailed,
    BadRequest,
    BadResponse,
    BulkUnavailable,
    NotFound,
    NotInPlan,
    ProviderError,
    ProviderUnavailable,
    QuotaExhausted,
    RateLimited,
)
from data_nexus.providers.eodhd._fields import excerpt
from data_nexus.providers.eodhd.limits import next_gmt_midnight
from data_nexus.providers.eodhd.parse_meta import summarize_errors
from data_nexus.providers.eodhd.retry import parse_retry_after

BULK_ENDPOINT = "eod-bulk-last-day"
_QUOTE_BYTES = 4096


@dataclass(frozen=True, slots=True)
class Failure:
    """What an error response means: the exception, and whether a retry may help."""

    error: ProviderError
    transient: bool = False
    retry_after: float | None = None
    reason: str = ""  # short, for RequestRetried: "HTTP 429", "ReadTimeout"


def body_excerpt(body: bytes, secrets: Iterable[str]) -> str:
    """A short redacted excerpt of an error body (only its start is decoded)."""
    return excerpt(body[:_QUOTE_BYTES].decode("utf-8", "replace"), secrets)


def classify(
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    endpoint: str,
    target: str | None,
    now: dt.datetime,
    secrets: Iterable[str],
) -> Failure:
    """The :class:`Failure` for a non-200 response to ``endpoint`` about ``target`` (a symbol
    or exchange code; ``None`` for account-wide endpoints)."""
    secrets = tuple(secrets)
    what = f"{endpoint} {target}" if target else endpoint
    quote = body_excerpt(body, secrets)
    said = f": {quote!r}" if quote else ""
    if status == 401:
        return Failure(
            AuthFailed(
                f"EODHD refused the API token (HTTP 401{said}) for {what}; "
                "check EODHD_API_TOKEN (the demo key covers only a few symbols)"
            )
        )
    if status == 402:
        resets_at = next_gmt_midnight(now)
        return Failure(
            QuotaExhausted(
                f"EODHD daily API allowance is used up (HTTP 402 for {what}); it resets at "
                f"the next GMT midnight ({resets_at:%Y-%m-%d %H:%M} UTC): run again after that",
                resets_at=resets_at,
            )
        )
    if status in (403, 404) and endpoint == BULK_ENDPOINT:
        return Failure(
            BulkUnavailable(
                f"EODHD bulk endpoint answered HTTP {status} for exchange {target}{said}: "
                "not in your plan (or an unknown exchange); fetch symbol by symbol"
            )
        )
    if status == 403:
        return Failure(
            NotInPlan(f"EODHD answered HTTP 403 for {what}{said}: not in your subscription plan")
        )
    if status == 404:
        if quote.lstrip().startswith("<"):
            return Failure(
                NotFound(
                    f"EODHD answered an HTML 404 page for {what}: wrong path; "
                    "is the base URL right (it ends in /api)?"
                )
            )
        return Failure(NotFound(f"EODHD does not know {what} (HTTP 404{said})"))
    if status == 422:
        summary = summarize_errors(body[:_QUOTE_BYTES], secrets=secrets)
        return Failure(BadRequest(f"EODHD rejected the parameters of {what} (HTTP 422): {summary}"))
    if status == 429:
        retry_after = parse_retry_after(headers.get("retry-after"), now)
        return Failure(
            RateLimited(
                f"EODHD answered 429 Too Many Requests for {what}; "
                "lower the rate limit or try again later",
                retry_after=retry_after,
            ),
            transient=True,
            retry_after=retry_after,
            reason="HTTP 429",
        )
    if 500 <= status <= 599:
        return Failure(
            ProviderUnavailable(f"EODHD server error HTTP {status} for {what}{said}"),
            transient=True,
            retry_after=parse_retry_after(headers.get("retry-after"), now),
            reason=f"HTTP {status}",
        )
    if 400 <= status <= 499:
        return Failure(BadRequest(f"EODHD answered HTTP {status} for {what}{said}"))
    return Failure(BadResponse(f"unexpected HTTP {status} from EODHD for {what}", symbol=target))


def gave_up(error: ProviderError, tries: int) -> ProviderError:
    """The error to raise when retries ran out: ``error``'s kind, saying so."""
    text = f"{error} (gave up after {tries} {'try' if tries == 1 else 'tries'})"
    if isinstance(error, RateLimited):
        return RateLimited(text, retry_after=error.retry_after)
    return ProviderUnavailable(text)


def too_long(error: ProviderError, retry_after: float, cap: float) -> ProviderError:
    """The error to raise when ``Retry-After`` asks for more than the client waits."""
    text = f"{error} (Retry-After {retry_after:.0f}s exceeds the {cap:.0f}s the client waits)"
    if isinstance(error, RateLimited):
        return RateLimited(text, retry_after=retry_after)
    return ProviderUnavailable(text)
