"""What one request costs the store, counted on the real store (SQLite and PostgreSQL): a 续报 reads
the caller's account once (its latest version), its Idempotency-Key once and the process once, and
saves once. Remembering accounts between requests never outlives a revocation: a revoked token, a
disabled account — revoked here or by another process on the same store — fails the next request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from ledger.accounts.aggregate import account_id
from ledger.accounts.service import local_operator
from ledger.runtime import LedgerConfig, LedgerRuntime
from ledger.store.commands import IdempotencyRecord
from tests.api.test_idempotency_api import assert_error, figures_body, open_disaster
from tests.conftest import TEST_PEPPER


class StoreReads:
    """Every read of stored events (by aggregate id) and every save, as the store answers them."""

    def __init__(self, recorder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reads: list[UUID] = []
        self.saves = 0
        select, insert = recorder.select_events, recorder.insert_events

        def counted_select(originator_id: Any, **kwargs: Any) -> Any:
            self.reads.append(UUID(str(originator_id)))
            return select(originator_id, **kwargs)

        def counted_insert(*args: Any, **kwargs: Any) -> Any:
            self.saves += 1
            return insert(*args, **kwargs)

        monkeypatch.setattr(recorder, "select_events", counted_select)
        monkeypatch.setattr(recorder, "insert_events", counted_insert)

    def reset(self) -> None:
        self.reads.clear()
        self.saves = 0


@pytest.fixture
def store_reads(runtime: LedgerRuntime, monkeypatch: pytest.MonkeyPatch) -> StoreReads:
    return StoreReads(runtime.app.recorder, monkeypatch)


def test_a_follow_up_reads_the_account_the_key_and_the_process_once_each_and_saves_once(
        client, as_role, store_reads: StoreReads) -> None:
    disaster_id = open_disaster(client, as_role)
    assert client.get("/v1/me", headers=as_role("county")).status_code == 200  # the token has been seen
    key, body = "reads-1", figures_body(140)

    store_reads.reset()
    response = client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=body,
                           headers=as_role("county", **{"Idempotency-Key": key}))
    assert response.status_code == 201, response.text

    record = IdempotencyRecord.create_id(f"{account_id('test-county')}|POST|/v1/disasters/{disaster_id}/follow-ups|{key}")
    assert sorted(map(str, store_reads.reads)) == sorted(map(str, [account_id("test-county"), record,
                                                                    UUID(disaster_id)]))
    assert store_reads.saves == 1

    # the retry answers from the record alone: account, record, the answer's position
    store_reads.reset()
    retry = client.post(f"/v1/disasters/{disaster_id}/follow-ups", json=body,
                        headers=as_role("county", **{"Idempotency-Key": key}))
    assert retry.status_code == 201 and retry.json() == response.json()
    assert store_reads.saves == 0
    assert store_reads.reads.count(account_id("test-county")) == 1 and store_reads.reads.count(record) == 1


def test_a_revoked_token_fails_the_next_request_though_the_account_was_remembered(client, as_role, runtime,
                                                                                   tokens) -> None:
    for _ in range(2):
        assert client.get("/v1/me", headers=as_role("county")).status_code == 200
    spare, _ = runtime.accounts.issue_token(local_operator(), "test-county", label="spare")
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {spare}"}).status_code == 200  # issued: works

    account = runtime.accounts.get("test-county")
    first = next(t for t, v in account.tokens.items() if v["label"] == "")
    runtime.accounts.revoke_token(local_operator(), "test-county", first)

    assert_error(client.get("/v1/me", headers=as_role("county")), 401, "unauthenticated")
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {spare}"}).status_code == 200


def test_a_disabled_account_fails_the_next_request(client, as_role, runtime) -> None:
    disaster_id = open_disaster(client, as_role)
    for _ in range(2):
        assert client.get(f"/v1/disasters/{disaster_id}", headers=as_role("township")).status_code == 200
    runtime.accounts.revoke(local_operator(), "test-township", reason="调离岗位")
    assert_error(client.get(f"/v1/disasters/{disaster_id}", headers=as_role("township")), 401, "unauthenticated")


@pytest.fixture
def other_process(runtime: LedgerRuntime, tmp_path) -> Iterator[LedgerRuntime]:  # type: ignore[no-untyped-def]
    """A second runtime on the same store, as the CLI of another process would open it."""
    config = LedgerConfig(persistence=dict(runtime.config.persistence), token_pepper=TEST_PEPPER,
                          data_dir=tmp_path)
    other = LedgerRuntime(config, areas=runtime.areas)
    yield other
    other.close()


def test_a_revocation_by_another_process_fails_the_next_request(client, as_role, other_process) -> None:
    for _ in range(2):
        assert client.get("/v1/me", headers=as_role("city")).status_code == 200
    other_process.accounts.revoke(local_operator(), "test-city", reason="离职")
    assert_error(client.get("/v1/me", headers=as_role("city")), 401, "unauthenticated")
    assert client.get("/v1/me", headers=as_role("county")).status_code == 200
