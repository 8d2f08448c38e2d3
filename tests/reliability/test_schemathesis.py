"""schemathesis over the service's own OpenAPI schema, against ``policykb serve`` on loopback.

Every operation the schema lists is called with generated data (valid and invalid), with a
key that holds every scope (``admin``), so no operation stops at the door. The bar: no
server error (5xx) for any case, and no stack trace or file-system path in any body (S8).
Kept small for CI: ``MAX_EXAMPLES`` cases per operation and generation mode. (schemathesis's
own pytest plugin does not run under pytest 9, so the cases are drawn from its per-operation
Hypothesis strategies here.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from tests.reliability.served import leak_in, serving

MAX_EXAMPLES = 12
#: What no body may hold: a stack trace, a source line, a server path.
CASES: list[tuple[str, int]] = []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, policy_documents) -> Iterator[tuple[str, Path, str]]:
    from kb import KnowledgeBase
    from service.keys import KeyRing
    from tests.service.test_server import free_port

    work = tmp_path_factory.mktemp("schemathesis")
    kb_dir = work / "kb"
    knowledge_base = KnowledgeBase(kb_dir, create=True)
    try:
        knowledge_base.add_documents(policy_documents)
        knowledge_base.build()
    finally:
        knowledge_base.close()
    key = KeyRing.beside(kb_dir).create("schemathesis", "admin")
    port = free_port()
    log_path = work / "serve.log"
    with serving(kb_dir, port, log_path, RATE_LIMIT="0", KEY_RATE_LIMIT="0"):
        yield f"http://127.0.0.1:{port}", kb_dir, key
    print(f"\nschemathesis: {len(CASES)} cases over {len({c[0] for c in CASES})} operations, "
          f"{sum(status >= 500 for _, status in CASES)} server errors")
    output = log_path.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in output, output[-3000:]


def test_no_operation_answers_a_server_error(server: tuple[str, Path, str]) -> None:
    """Each operation, each generation mode, ``MAX_EXAMPLES`` cases; every failure is
    collected (with the case that made it) and reported together."""
    base, kb_dir, key = server
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, [op.label for op in operations]
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            try:
                strategy = operation.as_strategy(generation_mode=mode)
            except Exception as error:  # noqa: BLE001 - an operation no case can be made for
                failures.append(f"{operation.label} ({mode.value}): no strategy: {error}")
                continue

            try:
                _cases(strategy, operation.label, mode.value, base, key, kb_dir, failures)()
            except Unsatisfiable:  # an operation without parameters has no invalid request to make
                assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label
    assert CASES and not failures, "\n".join(failures[:30])


def _cases(strategy, label: str, mode: str, base: str, key: str, kb_dir: Path, failures: list[str]):
    """The Hypothesis test of one operation in one generation mode."""

    @given(strategy)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck), database=None)
    def call(case) -> None:
        response = case.call(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60)
        CASES.append((label, response.status_code))
        problem = _problem(response, kb_dir)
        if problem:
            failures.append(f"{case.method} {case.formatted_path} ({mode}): {problem}")

    return call


def _problem(response, kb_dir: Path) -> str | None:
    """Why a response breaks the bar, or None."""
    text = response.text
    if response.status_code >= 500:
        return f"{response.status_code}: {text[:300]}"
    leak = leak_in(text, kb_dir)
    if leak is not None:
        return f"{leak!r} in a {response.status_code} body: {text[:300]}"
    content_type = response.headers.get("content-type") or [""]
    if response.status_code >= 400 and content_type[0].startswith("application/json"):
        try:
            if not json.loads(text).get("error", {}).get("code"):
                return f"a {response.status_code} without an error code: {text[:300]}"
        except (ValueError, AttributeError):
            return f"a {response.status_code} whose body is not the JSON error shape: {text[:300]}"
    return None
