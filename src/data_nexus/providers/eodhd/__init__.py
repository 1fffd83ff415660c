"""The EODHD end-of-day API: an asynchronous client (I/O) and pure parsers."""

from data_nexus.errors import BulkUnavailable, MalformedBody
from data_nexus.providers.eodhd.client import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, EodhdClient
from data_nexus.providers.eodhd.events import ProviderEvent, ProviderWarning, RequestRetried
from data_nexus.providers.eodhd.factory import make_client, retry_policy
from data_nexus.providers.eodhd.limits import (
    ENDPOINT_WEIGHTS,
    CallBudget,
    InMemoryCallBudget,
    RateLimiter,
    TokenBucket,
    Unlimited,
    bulk_weight,
    next_gmt_midnight,
)
from data_nexus.providers.eodhd.parse import (
    parse_bulk_dividends,
    parse_bulk_eod,
    parse_bulk_splits,
    parse_dividends,
    parse_eod,
    parse_splits,
)
from data_nexus.providers.eodhd.parse_meta import (
    parse_exchanges,
    parse_symbol_list,
    parse_user,
    summarize_errors,
)
from data_nexus.providers.eodhd.retry import RetryPolicy, parse_retry_after

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "ENDPOINT_WEIGHTS",
    "BulkUnavailable",
    "CallBudget",
    "EodhdClient",
    "InMemoryCallBudget",
    "MalformedBody",
    "ProviderEvent",
    "ProviderWarning",
    "RateLimiter",
    "RequestRetried",
    "RetryPolicy",
    "TokenBucket",
    "Unlimited",
    "bulk_weight",
    "make_client",
    "next_gmt_midnight",
    "parse_bulk_dividends",
    "parse_bulk_eod",
    "parse_bulk_splits",
    "parse_dividends",
    "parse_eod",
    "parse_exchanges",
    "parse_retry_after",
    "parse_splits",
    "parse_symbol_list",
    "parse_user",
    "retry_policy",
    "summarize_errors",
]
