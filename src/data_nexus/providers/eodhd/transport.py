"""An httpx transport that adds the API token at the last moment.

The client builds every request *without* the token; :class:`TokenTransport` adds the
``api_token`` query parameter to a copy of the request just before the inner transport sends
it. So the request httpx keeps — the one its ``HTTP Request: GET …`` INFO log line prints, the
one a response's ``.request`` points to — never carries the token, and transport exceptions
are re-pointed at the token-free request too.
"""

from __future__ import annotations

import httpx

TOKEN_PARAM = "api_token"  # noqa: S105 - the parameter name, not a secret


class TokenTransport(httpx.AsyncBaseTransport):
    """Wraps ``inner`` and sends each request with ``api_token=<token>`` added."""

    def __init__(self, inner: httpx.AsyncBaseTransport, token: str) -> None:
        self._inner = inner
        self._token = token

    def __repr__(self) -> str:
        return f"TokenTransport({type(self._inner).__name__}, api_token=***)"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send a copy of ``request`` with the token; never expose that copy upwards."""
        authed = httpx.Request(
            request.method,
            request.url.copy_set_param(TOKEN_PARAM, self._token),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        try:
            return await self._inner.handle_async_request(authed)
        except httpx.RequestError as exc:
            exc.request = request  # the token-free original
            raise

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self._inner.aclose()
