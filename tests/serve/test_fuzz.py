"""The served OpenAPI schema, fuzzed with schemathesis over a real socket: no 500s.

Each documented operation gets generated valid (positive) and invalid (negative) requests;
``call_and_validate`` runs schemathesis' default checks: no server error, status codes and
content types the schema documents, bodies that match their documented schema.

(Schemathesis' pytest plugin, ``from_fixture``, does not run under pytest 9.2; its
Hypothesis strategies are used directly instead, which is what the plugin does.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.checks import positive_data_acceptance  # noqa: E402
from schemathesis.generation.modes import GenerationMode  # noqa: E402

from data_nexus.serve import ServerThread, create_app, open_read_only  # noqa: E402
from tests.serve.conftest import fixed_clock  # noqa: E402

OPERATIONS = [
    "/health",
    "/assets",
    "/bars/{symbol}",
    "/bars",
    "/actions/{symbol}",
    "/status",
    "/runs",
    "/findings",
]


@pytest.fixture(scope="module")
def served(demo_url: str) -> Iterator[tuple[str, object]]:
    app = create_app(open_read_only(demo_url), clock=fixed_clock, close=True)
    with ServerThread(app) as server:
        yield server.url, schemathesis.openapi.from_url(f"{server.url}/openapi.json")


def test_every_data_endpoint_is_documented(served: tuple[str, object]) -> None:
    _url, schema = served
    paths = {op.ok().path for op in schema.get_all_operations()}  # type: ignore[attr-defined]
    assert paths == set(OPERATIONS)


@pytest.mark.parametrize(
    ("path", "mode"),
    [
        (path, mode)
        for path in OPERATIONS
        for mode in GenerationMode
        if not (path == "/health" and mode is GenerationMode.NEGATIVE)  # no parameters to break
    ],
)
def test_no_server_errors_and_answers_match_the_schema(
    served: tuple[str, object], path: str, mode: GenerationMode
) -> None:
    url, schema = served
    operation = schema[path]["GET"]  # type: ignore[index]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=30,
        deadline=None,
        derandomize=True,  # the same cases on every run: CI never meets a new one by chance
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        response = case.call_and_validate(base_url=url, excluded_checks=[positive_data_acceptance])
        if mode is GenerationMode.POSITIVE and response.status_code == 400:
            # The rules a JSON schema cannot state: from must not be after to, and a symbol
            # the pattern admits may still be a misspelling refused with a hint (BRK.B).
            error = response.json()["error"]
            assert "is after end date" in error or "use '" in error, response.text

    check()
