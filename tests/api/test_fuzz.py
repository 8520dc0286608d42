"""Schema-driven fuzzing of every operation of the app (schemathesis over the OpenAPI document).

No input — valid or not — may produce a 5xx, and every 4xx has the one error
shape `{"error": {"code", "message", "fields", "details"}}`.

The app runs over a real store on an SQLite file (this is about input
handling, not storage), shared by the module. Most requests are made as the
county account so they get past 401 (some as the township account, some with
a generated Authorization header). A real disaster process (初报 + 续报) is
seeded, and the disaster id of a path is often pointed at it, so the
operations on an existing process run their domain rules too; random ids
answer 404, which is fine.

Cases come from schemathesis strategies: the OpenAPI examples, positive
(schema-valid) and — where the operation has something to break — negative
(schema-invalid) data. The pytest plugin's lazy `from_fixture` loader is not
used (it sets `Node._nodeid`, which pytest 9 no longer has); each operation is
a parametrized test running a bounded Hypothesis search: MAX_EXAMPLES (40)
cases, no deadline, a fixed seed so a CI run is reproducible. To explore:
RELIEF_FUZZ_SEED=<n> RELIEF_FUZZ_EXAMPLES=<n> pytest tests/api/test_fuzz.py
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.settings import CIPHER_TOPIC, Settings
from ledger.accounts.service import local_operator
from ledger.reference.areas import AreaTable
from ledger.runtime import LedgerConfig, LedgerRuntime
from tests.conftest import TEST_CIPHER_KEY, TEST_PEPPER

MAX_EXAMPLES = int(os.environ.get("RELIEF_FUZZ_EXAMPLES", "40"))
SEED = int(os.environ.get("RELIEF_FUZZ_SEED", "20260708"))
ERROR_KEYS = {"code", "message", "fields", "details"}
FIELD_KEYS = {"field", "code", "message"}
# Who makes a request: mostly the county (gets furthest), the township (scope and role
# checks), or whatever Authorization header schemathesis generates (401 paths).
CALLERS = ["county", "county", "county", "township", "generated"]
HEADERS = {
    "If-Match": st.integers(0, 6).flatmap(lambda v: st.sampled_from([str(v), f'"{v}"', f'W/"{v}"'])),
    "Idempotency-Key": st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40),
}
KNOWN_AREAS = ["32", "3209", "320921", "320921100", "320921100000", "500107", "410106", "360200"]


def _operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every operation in the app's OpenAPI document, read at collection time.

    The document does not depend on the store: an app over a throwaway in-memory one gives it.
    """
    config = LedgerConfig(persistence={"PERSISTENCE_MODULE": "eventsourcing.popo"}, token_pepper=TEST_PEPPER)
    with LedgerRuntime(config, areas=AreaTable.load(None)) as runtime:
        document = create_app(runtime).openapi()
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


OPERATIONS = _operations()


# --- the app over a real store --------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerRuntime]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    config = LedgerConfig(
        persistence={
            "CIPHER_TOPIC": CIPHER_TOPIC, "CIPHER_KEY": TEST_CIPHER_KEY,
            "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(data_dir / "ledger.sqlite"),
        },
        token_pepper=TEST_PEPPER,
        data_dir=data_dir,
    )
    runtime = LedgerRuntime(config, areas=AreaTable.load(None))
    yield runtime
    runtime.close()


@pytest.fixture(scope="module")
def fuzz_headers(fuzz_runtime: LedgerRuntime) -> dict[str, dict[str, str]]:
    """caller → the Authorization header of its account."""
    operator = local_operator()
    headers = {}
    for role, scope in {"township": "320921100", "county": "320921"}.items():
        fuzz_runtime.accounts.register(operator, f"fuzz-{role}", role, scope)
        token, _ = fuzz_runtime.accounts.issue_token(operator, f"fuzz-{role}")
        headers[role] = {"Authorization": f"Bearer {token}"}
    return headers


@pytest.fixture(scope="module")
def fuzz_app(fuzz_runtime: LedgerRuntime) -> FastAPI:
    return create_app(fuzz_runtime, Settings(threadpool_size=4, auth_failure_burst=100_000))


@pytest.fixture(scope="module")
def seeded_disaster(fuzz_app: FastAPI, fuzz_headers: dict[str, dict[str, str]]) -> str:
    """A real process with two events: 初报 by the township, 续报 by the county."""
    now = datetime.now(UTC)
    with TestClient(fuzz_app, raise_server_exceptions=False) as client:
        filed = client.post(
            "/v1/disasters",
            json={"county": "320921", "hazard": "flood", "subtype": "river_flood",
                  "occurred_at": (now - timedelta(hours=5)).isoformat(),
                  "figures": {"320921100": {"affected_population": 100, "crop_affected_ha": "10.00"}}},
            headers=fuzz_headers["township"],
        )
        assert filed.status_code == 201, filed.text
        disaster_id = filed.json()["id"]
        follow_up = client.post(
            f"/v1/disasters/{disaster_id}/follow-ups",
            json={"figures": {"320921100": {"affected_population": 110}},
                  "as_of": (now - timedelta(hours=3)).isoformat()},
            headers=fuzz_headers["county"],
        )
        assert follow_up.status_code == 201, follow_up.text
    return disaster_id


@pytest.fixture(scope="module")
def api_schema(fuzz_app: FastAPI) -> Any:
    config = schemathesis.Config.from_dict({"seed": SEED, "suppress-health-check": ["all"]})
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app, config=config)


# --- the checks -----------------------------------------------------------------------


def assert_well_formed(status: int, content_type: str, body: Any, where: str) -> None:
    """Not a server error; a 4xx has the one error shape."""
    assert status < 500, where
    if status < 400:
        return
    assert content_type.startswith("application/json"), where
    assert isinstance(body, dict) and set(body) == {"error"}, where
    error = body["error"]
    assert isinstance(error, dict) and set(error) == ERROR_KEYS, where
    assert isinstance(error["code"], str) and error["code"], where
    assert isinstance(error["message"], str) and " / " in error["message"], where  # Chinese / English
    assert isinstance(error["details"], dict), where
    assert isinstance(error["fields"], list), where
    for field in error["fields"]:
        assert isinstance(field, dict) and set(field) == FIELD_KEYS, where
        assert all(isinstance(v, str) for v in field.values()), where


def check_response(case: Any, response: Any) -> None:
    where = (f"{case.operation.label} → {response.status_code}\n{case.as_curl_command()}\n"
             f"{response.text[:2000]}")
    assert response.status_code < 500, where
    # No 5xx, and nothing the OpenAPI document does not say: every status documented, the body
    # matching its documented schema, the documented content type.
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                             response_schema_conformance])
    content_type = " ".join(response.headers.get("content-type", []))  # lowercase keys, list values
    body = response.json() if response.status_code >= 400 else None
    assert_well_formed(response.status_code, content_type, body, where)


def _has_something_to_break(operation: Any) -> bool:
    """Negative generation needs a body or a constrained path parameter.

    A plain string path parameter or header has no schema-invalid value to generate.
    """
    definition = operation.definition.raw
    if "requestBody" in definition:
        return True
    return any(
        p.get("in") == "path" and (p.get("schema", {}).get("format") == "uuid"
                                   or p.get("schema", {}).get("type") == "integer")
        for p in definition.get("parameters", [])
    )


# --- schema-driven: every operation -------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_input_gives_a_server_error(
    method: str, path: str, api_schema: Any, fuzz_headers: dict[str, dict[str, str]], seeded_disaster: str,
) -> None:
    operation = api_schema[path][method]
    strategies = [*operation.get_strategies_from_examples(), operation.as_strategy(GenerationMode.POSITIVE)]
    if _has_something_to_break(operation):
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
    # Sometimes aim the path at things that exist, so the rules behind the 404/422 run too.
    real = {
        "disaster_id": st.just(seeded_disaster),
        "number": st.integers(1, 4),
        "code": st.sampled_from(KNOWN_AREAS),
    }

    @seed(SEED)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate, Phase.shrink], database=None)
    @given(case=st.one_of(strategies), caller=st.sampled_from(CALLERS), data=st.data())
    def fuzz(case: Any, caller: str, data: st.DataObject) -> None:
        if case.path_parameters:
            aimed = {name: data.draw(real[name], label=name)
                     for name in case.path_parameters if name in real and data.draw(st.booleans())}
            if aimed:
                case.path_parameters = {**case.path_parameters, **aimed}
        # Generated If-Match / Idempotency-Key values are nearly always refused before the rules
        # run; often send none or a well-formed one instead.
        headers_now = dict(case.headers or {})
        for name, valid in HEADERS.items():
            choice = data.draw(st.sampled_from(["generated", "none", "valid"]), label=name)
            if choice == "none":
                headers_now.pop(name, None)
            elif choice == "valid":
                headers_now[name] = data.draw(valid, label=name)
        case.headers = headers_now
        headers = dict(fuzz_headers[caller]) if caller in fuzz_headers else None  # call() adds to the dict
        response = case.call(headers=headers)
        check_response(case, response)

    fuzz()


# --- hand-written: the edges of times and dates ---------------------------------------
#
# The generated date-times above rarely reach the ends of the calendar, where converting
# between offsets leaves the representable range (0001-01-01T00:00+14:00 is still year 0
# in UTC). Every time field of every command is tried with such values, naive and aware.

OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
EDGE_DATETIMES = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59),
                 timezones=st.one_of(st.none(), OFFSETS)),
    st.sampled_from([datetime.min, datetime.max]).flatmap(
        lambda edge: st.sampled_from([
            edge, edge.replace(tzinfo=UTC),
            edge.replace(tzinfo=timezone(timedelta(hours=14))),
            edge.replace(tzinfo=timezone(timedelta(hours=-12))),
            edge.replace(tzinfo=timezone(timedelta(hours=23, minutes=59))),
            edge.replace(tzinfo=timezone(-timedelta(hours=23, minutes=59))),
        ])
    ),
)
EDGE_DATES = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
FIGURES = {"320921100": {"affected_population": 120}}


def _recent(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


TIME_COMMANDS: dict[str, tuple[str, Any]] = {
    # name: (path under /v1/disasters, body for a drawn value)
    "initial.occurred_at": ("", lambda t: {"county": "320921", "hazard": "flood", "subtype": "river_flood", "occurred_at": t,
                                           "figures": FIGURES}),
    "initial.phoned_at": ("", lambda t: {"county": "320921", "hazard": "drought", "subtype": "other", "occurred_at": _recent(30),
                                         "phoned_at": t, "figures": FIGURES}),
    "follow_up.as_of": ("/{id}/follow-ups", lambda t: {"figures": FIGURES, "as_of": t}),
    "follow_up.phoned_at": ("/{id}/follow-ups", lambda t: {"figures": FIGURES, "as_of": _recent(1),
                                                           "phoned_at": t}),
    "final.as_of": ("/{id}/final", lambda t: {"figures": FIGURES, "as_of": t}),
    "stabilisation.stabilised_at": ("/{id}/stabilisation", lambda t: {"stabilised_at": t}),
    "response_level.decided_at": ("/{id}/response-level", lambda t: {
        "action": "start", "level": 4, "plan": "预案", "plan_version": "2021", "government_level": "county",
        "decided_at": t, "reason": "测试"}),
    "corrections.disaster_date": ("/{id}/corrections", lambda d: {"reason": "日期勘误", "disaster_date": d}),
}


@pytest.fixture(scope="module")
def open_disaster(fuzz_app: FastAPI, fuzz_headers: dict[str, dict[str, str]]) -> str:
    """A process of its own, opened 10 hours ago, that the commands below never close."""
    body = {"county": "320921", "hazard": "earthquake", "subtype": "earthquake", "occurred_at": _recent(10), "figures": FIGURES}
    with TestClient(fuzz_app, raise_server_exceptions=False) as client:
        filed = client.post("/v1/disasters", json=body, headers=fuzz_headers["county"])
    if filed.status_code == 409:
        return filed.json()["error"]["details"]["existing_id"]
    assert filed.status_code == 201, filed.text
    return filed.json()["id"]


@pytest.mark.parametrize("command", list(TIME_COMMANDS))
def test_edge_times_are_refused_not_crashed(
    command: str, fuzz_app: FastAPI, fuzz_headers: dict[str, dict[str, str]], open_disaster: str,
) -> None:
    suffix, make_body = TIME_COMMANDS[command]
    url = "/v1/disasters" + suffix.format(id=open_disaster)
    values = EDGE_DATES if command.endswith("disaster_date") else EDGE_DATETIMES
    client = TestClient(fuzz_app, raise_server_exceptions=False)

    @seed(SEED)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    @given(value=values)
    def fuzz(value: datetime | date) -> None:
        body = make_body(value.isoformat())
        response = client.post(url, json=body, headers=fuzz_headers["county"])
        where = f"POST {url} → {response.status_code}\n{body}\n{response.text[:2000]}"
        content_type = response.headers.get("content-type", "")
        assert_well_formed(response.status_code, content_type,
                           response.json() if response.status_code >= 400 else None, where)

    fuzz()
