"""Who may read: loopback by default, a bearer token for anything else.

``datanexus serve`` binds 127.0.0.1 unless told otherwise. Binding any other address needs
either a token (clients send ``Authorization: Bearer <token>``) or an explicit
``--insecure-no-auth``: a warehouse is never exposed to a network by accident.

The token guards the data endpoints (``/assets``, ``/bars``, …). The page shell, its
scripts and the OpenAPI description hold no data and are served without it; the page asks
for the token and keeps it in the browser tab's ``sessionStorage``.

``/health`` answers without the token too, as load balancers and uptime probes cannot send
one, but then only what a probe needs and nothing about the warehouse's content or setup:
``status``, ``reachable``, ``schema_at_head`` and ``newest_bar_age_days`` (the status code
says the rest: 200 healthy, 503 not). The backend, schema revisions, the newest bar's date
and the reason for being unhealthy (a database error can name a host, a user or a path)
are ``null`` unless the request carries the token (:func:`health_details_for`).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from data_nexus.errors import UsageError

_bearer = HTTPBearer(auto_error=False, description="The token given to `datanexus serve`.")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None, insecure_no_auth: bool) -> None:
    """Refuse to listen beyond loopback without a token or an explicit opt-out.

    Raises :class:`~data_nexus.errors.UsageError` (exit code 2 on the command line).
    """
    if token is not None and not token.strip():
        raise UsageError("--token is empty: give a long random string, or omit it")
    if token is not None and insecure_no_auth:
        raise UsageError("--token and --insecure-no-auth contradict each other: give one")
    if not is_loopback(host) and token is None and not insecure_no_auth:
        raise UsageError(
            f"--host {host} would expose the warehouse beyond this machine: give --token "
            "(or DATANEXUS_SERVE_TOKEN) so clients must send it, or --insecure-no-auth"
        )


def bearer_matches(header: str | None, expected: bytes) -> bool:
    """Whether an ``Authorization`` header value carries ``expected`` as FastAPI's
    ``HTTPBearer`` plus :func:`bearer_guard` read it (scheme ``bearer`` in any case, one
    space, the token; constant-time comparison)."""
    if not header:
        return False
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() != "bearer" or not credentials:
        return False
    return hmac.compare_digest(credentials.encode(), expected)


def health_details_for(header: str | None, token: str | None) -> bool:
    """Whether ``/health`` may show everything to a request with this ``Authorization``
    header: always without a server token, else only with the token (module docstring)."""
    return token is None or bearer_matches(header, token.encode())


def bearer_guard(token: str) -> Callable[[HTTPAuthorizationCredentials | None], None]:
    """A FastAPI dependency that accepts only ``Authorization: Bearer <token>``."""
    expected = token.encode()

    def guard(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:  # noqa: B008
        given = (credentials.credentials if credentials else "").encode()
        if not credentials or not hmac.compare_digest(given, expected):
            raise HTTPException(
                status_code=401,
                detail="missing or wrong bearer token (send 'Authorization: Bearer <token>')",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return guard
