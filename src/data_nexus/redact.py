"""Keep secrets out of every text we show or store.

Two kinds of secret exist: the provider's API token (sent as the ``api_token`` query
parameter) and database passwords (inside SQLAlchemy URLs). Every message, log line,
``last_error`` and progress event is built from redacted values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_MASK = "***"
_TOKEN_PARAM = re.compile(r"(?i)(api_token=)[^&\s'\"]+")
#: ``scheme://user:password@``. The password runs to the *last* ``@`` of the URL (quotes and
#: whitespace end a URL), so a password holding an unencoded ``@`` (or ``:``, ``/``, ``#``,
#: ``?``) is masked whole, never cut at its first ``@``.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)([^\s'\"]*)(@)")
#: ``password=…`` in a URL's query string (``?password=x&sslmode=require``): the value ends at
#: the next ``&`` (which a password must percent-encode there), so the parameters after it
#: stay readable. ``PGPASSWORD``/``db_password`` count too.
_QUERY_PASSWORD = re.compile(r"(?i)([?&][\w.-]*password=)([^&\s'\"#]*)")
#: ``password=…`` anywhere else (libpq keyword strings ``password=x host=h``, driver
#: messages): a quoted value, or everything up to whitespace.
_KV_PASSWORD = re.compile(r"(?i)(?<![?&\w])(\w*password\s*=\s*)('[^']*'|\"[^\"]*\"|\S+)")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Return ``text`` with every secret replaced by ``***``.

    Masks the ``api_token`` query parameter, passwords in ``scheme://user:password@host``
    URLs (everything up to the URL's last ``@``, so an unencoded ``@`` in the password does
    not leak its tail), a ``password`` query parameter (up to its ``&``: the other
    parameters stay), other ``password=…`` pairs (up to whitespace), and each literal
    string in ``secrets`` (ignoring empty ones and ones too short to be secrets).
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, _MASK)
    text = _TOKEN_PARAM.sub(lambda m: m.group(1) + _MASK, text)
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + _MASK + m.group(3), text)
    text = _QUERY_PASSWORD.sub(lambda m: m.group(1) + _MASK, text)
    return _KV_PASSWORD.sub(lambda m: m.group(1) + _MASK, text)


def safe_url(url: str) -> str:
    """A database or API URL fit for messages: password and token masked."""
    return redact(url)
