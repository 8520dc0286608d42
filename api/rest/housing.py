"""REST commands and reads of housing reconstruction files (倒损住房恢复重建 一户一档)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, StreamingResponse

from api.deps import CurrentActor, ExpectedVersion, IdempotencyHeader, Runtime, idempotency_key
from api.files.housing import write_housing_list
from api.files.relief import projection_view
from api.presenters import command_response
from ledger.households.evidence import Evidence
from ledger.households.household import Member, names_visible
from ledger.housing.case import HousingCase
from ledger.housing.service import HousingApplication
from ledger.personal.identifiers import mask_address, mask_card, mask_id, mask_name, mask_phone
from ledger.reference.codes import AreaCode
from ledger.store.actors import Actor
from ledger.store.errors import NotPermitted
from schemas.common import ERROR_RESPONSES, CommandOut
from schemas.housing import (
    AgreementIn,
    DeliberationIn,
    HousingApplicationIn,
    HousingApprovalIn,
    HousingPostingIn,
    InspectionIn,
    OtherMoneyIn,
    ProgressIn,
    StatedIn,
    StepIn,
    TrancheIn,
)
from schemas.relief import ObjectionIn, ObjectionResolutionIn, ReasonIn

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


router = APIRouter(prefix="/v1/housing", tags=["housing 倒损住房恢复重建"], responses=ERROR_RESPONSES)


def _answer(result: Any) -> JSONResponse:
    response = command_response(result)
    response.headers["Location"] = f"/v1/housing/cases/{result.id}"
    return response


@router.post("/cases", status_code=201, response_model=CommandOut, summary="申请: a household's file, damage assessed")
def apply(body: HousingApplicationIn, request: Request, runtime: Runtime, actor: CurrentActor,
          key: IdempotencyHeader = None) -> JSONResponse:
    """One open file per household head and disaster (409 + `existing_id`); excluded buildings (独立厨房,
    牲畜棚 …) and circumstances (长期无人居住, 第二套住房) are refused naming the rule."""
    values = body.model_dump(exclude={"members", "evidence"})
    application = HousingApplication(
        **values, members=[Member(m.name, m.relation, m.id_number, tuple(m.groups), m.in_need) for m in body.members],
        evidence=[Evidence(e.ref, e.type, e.name) for e in body.evidence])
    return _answer(runtime.housing.apply(actor, application, idempotency_key(request, actor, key, body)))


def _kw(request: Request, actor: Actor, key: str | None, body: Any, expected: int | None) -> dict[str, Any]:
    return {"expected": expected, "idempotency": idempotency_key(request, actor, key, body)}


@router.post("/cases/{case_id}/deliberation", response_model=CommandOut, summary="村评议 (四议两公开)")
def deliberate(case_id: UUID, body: DeliberationIn, request: Request, runtime: Runtime, actor: CurrentActor,
               expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    return _answer(runtime.housing.deliberate(actor, case_id, body.minutes_ref, body.held_on,
                                              **_kw(request, actor, key, body, expected)))


@router.post("/cases/{case_id}/posting", response_model=CommandOut, summary="公示 (the shared posting rules)")
def post(case_id: UUID, body: HousingPostingIn, request: Request, runtime: Runtime, actor: CurrentActor,
         expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    return _answer(runtime.housing.post(actor, case_id, body.start, body.end, body.place, body.reason,
                                        **_kw(request, actor, key, body, expected)))


@router.post("/cases/{case_id}/objections", response_model=CommandOut, summary="异议 (answer: created.objection_id)")
def objection(case_id: UUID, body: ObjectionIn, request: Request, runtime: Runtime, actor: CurrentActor,
              key: IdempotencyHeader = None) -> JSONResponse:
    return _answer(runtime.housing.raise_objection(actor, case_id, body.summary, body.raised_on,
                                                   idempotency=idempotency_key(request, actor, key, body)))


@router.post("/cases/{case_id}/objections/{objection_id}/resolution", response_model=CommandOut)
def resolve(case_id: UUID, objection_id: str, body: ObjectionResolutionIn, request: Request, runtime: Runtime,
            actor: CurrentActor, key: IdempotencyHeader = None) -> JSONResponse:
    return _answer(runtime.housing.resolve_objection(actor, case_id, objection_id, body.resolution, body.upheld,
                                                     idempotency=idempotency_key(request, actor, key, body)))


@router.post("/cases/{case_id}/township-review", response_model=CommandOut, summary="乡审")
def review(case_id: UUID, body: StatedIn, request: Request, runtime: Runtime, actor: CurrentActor,
           expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    return _answer(runtime.housing.township_review(actor, case_id, body.stated_on,
                                                   **_kw(request, actor, key, body, expected)))


@router.post("/cases/{case_id}/approval", response_model=CommandOut,
             summary="县批: the subsidy from the standard table (its version recorded)")
def approve(case_id: UUID, body: HousingApprovalIn, request: Request, runtime: Runtime, actor: CurrentActor,
            expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    return _answer(runtime.housing.approve(actor, case_id, body.subsidy_fen, body.reason, body.stated_on,
                                           **_kw(request, actor, key, body, expected)))


@router.post("/cases/{case_id}/agreement", response_model=CommandOut, summary="协议: planned 开工 / 竣工, tranches")
def agree(case_id: UUID, body: AgreementIn, request: Request, runtime: Runtime, actor: CurrentActor,
          expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    return _answer(runtime.housing.agree(actor, case_id, body.signed_on, body.planned_start, body.planned_completion,
                                         **_kw(request, actor, key, body, expected)))


@router.post("/cases/{case_id}/steps", response_model=CommandOut, summary="开工 / 竣工 / 入住 / 销号, in order")
def step(case_id: UUID, body: StepIn, request: Request, runtime: Runtime, actor: CurrentActor,
         expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    return _answer(runtime.housing.record_step(actor, case_id, body.step, body.stated_on,
                                               **_kw(request, actor, key, body, expected)))


@router.post("/cases/{case_id}/inspection", response_model=CommandOut, summary="验收: passed, or failed with reasons")
def inspect(case_id: UUID, body: InspectionIn, request: Request, runtime: Runtime, actor: CurrentActor,
            expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    return _answer(runtime.housing.inspect(actor, case_id, body.passed, body.reasons, body.stated_on,
                                           **_kw(request, actor, key, body, expected)))


@router.post("/cases/{case_id}/progress", response_model=CommandOut, summary="进度报告 (20-day rhythm)")
def progress(case_id: UUID, body: ProgressIn, request: Request, runtime: Runtime, actor: CurrentActor,
             key: IdempotencyHeader = None) -> JSONResponse:
    return _answer(runtime.housing.report_progress(actor, case_id, body.stated_on, body.note,
                                                   idempotency=idempotency_key(request, actor, key, body)))


@router.post("/cases/{case_id}/tranches", status_code=201, response_model=CommandOut,
             summary="拨付 a subsidy tranche from the county's housing fund (answer: created.payment_id)")
def pay(case_id: UUID, body: TrancheIn, request: Request, runtime: Runtime, actor: CurrentActor,
        key: IdempotencyHeader = None) -> JSONResponse:
    return _answer(runtime.housing.pay_tranche(actor, case_id, body.tranche, body.bank_ref, body.payment_id,
                                               idempotency_key(request, actor, key, body)))


@router.post("/cases/{case_id}/tranches/{payment_id}/return", response_model=CommandOut,
             summary="退回: a tranche came back; the money returns to the fund")
def returned(case_id: UUID, payment_id: str, body: ReasonIn, request: Request, runtime: Runtime,
             actor: CurrentActor, key: IdempotencyHeader = None) -> JSONResponse:
    return _answer(runtime.housing.tranche_came_back(actor, case_id, payment_id, body.reason,
                                                     idempotency_key(request, actor, key, body)))


@router.post("/cases/{case_id}/other-money", response_model=CommandOut, summary="互助 / 自筹 / 保险 / 社会捐赠")
def other_money(case_id: UUID, body: OtherMoneyIn, request: Request, runtime: Runtime, actor: CurrentActor,
                key: IdempotencyHeader = None) -> JSONResponse:
    return _answer(runtime.housing.record_other_money(actor, case_id, body.kind, body.amount_fen, body.stated_on,
                                                      body.note, idempotency=idempotency_key(request, actor, key,
                                                                                             body)))


@router.post("/cases/{case_id}/rejection", response_model=CommandOut)
def reject(case_id: UUID, body: ReasonIn, request: Request, runtime: Runtime, actor: CurrentActor,
           expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    return _answer(runtime.housing.reject(actor, case_id, body.reason, **_kw(request, actor, key, body, expected)))


@router.post("/cases/{case_id}/withdrawal", response_model=CommandOut)
def withdraw(case_id: UUID, body: ReasonIn, request: Request, runtime: Runtime, actor: CurrentActor,
             expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    return _answer(runtime.housing.withdraw(actor, case_id, body.reason, **_kw(request, actor, key, body, expected)))


@router.get("/cases/{case_id}", summary="one file (names in clear for officers in scope; numbers masked)")
def get_case(case_id: UUID, runtime: Runtime, actor: CurrentActor,
             reveal: Annotated[bool, Query()] = False,
             purpose: Annotated[str, Query(max_length=500)] = "") -> dict[str, Any]:
    case = runtime.housing.get(actor, case_id)
    if reveal:
        runtime.relief.record_view(actor, case.id, case.village, purpose)
    return housing_out(case, actor, masked=not reveal)


def housing_out(case: HousingCase, actor: Actor, masked: bool) -> dict[str, Any]:
    named = not masked or names_visible(actor, case.village)

    def number(value: str, mask: Any) -> str:
        return mask(value) if masked else value

    return jsonable_encoder({
        "id": str(case.id), "version": case.version, "disaster_id": str(case.disaster_id),
        "disaster_year": case.disaster_year, "county": case.county, "township": case.township,
        "village": case.village, "step": case.step.value, "next_step": (n.value if (n := case.next_step()) else None),
        "mode": case.mode, "damage": case.damage, "rooms": case.rooms, "flood_storage": case.flood_storage,
        "head_name": case.head_name if named else mask_name(case.head_name),
        "address": case.address if named else mask_address(case.address),
        "id_number": number(case.id_number, mask_id), "phone": number(case.phone, mask_phone),
        "card_number": number(case.card_number, mask_card), "masked": masked,
        "members": [{**m, "name": m["name"] if named else mask_name(m["name"]),
                     "id_number": number(m["id_number"], mask_id)} for m in case.members],
        "evidence": case.evidence, "stated": case.stated, "posting": case.posting, "objections": case.objections,
        "approval": case.approval, "agreement": case.agreement, "inspections": case.inspections,
        "delays": case.delays, "subsidy_fen": case.subsidy, "paid_fen": case.paid(), "unpaid_fen": case.unpaid(),
        "tranches": {k: {**v, "fund_id": str(v["fund_id"])} for k, v in case.tranches.items()},
        "other_money": case.other_money, "progress": case.progress,
        "linked_relief_cases": [str(c) for c in case.linked_relief], "closing_reason": case.closing_reason,
    })


@router.get("/list.xlsx", response_class=StreamingResponse,
            responses={200: {"content": {XLSX: {}}, "description": "因灾倒塌损坏住房户一览表"}},
            summary="因灾倒塌损坏住房户 list (.xlsx, streamed; numbers masked unless revealed with a purpose)")
def housing_list(request: Request, runtime: Runtime, actor: CurrentActor,
                 area: Annotated[str, Query(pattern=r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$")],
                 disaster_id: Annotated[UUID | None, Query()] = None,
                 reveal: Annotated[bool, Query()] = False,
                 purpose: Annotated[str, Query(max_length=500)] = "") -> StreamingResponse:
    code = AreaCode.parse(area, "area")
    found = runtime.areas.require(code, "area")
    if not actor.covers(code.prefix):
        raise NotPermitted(f"{code.prefix} 不在本账号的管辖范围内", f"{code.prefix} is outside this account's scope")
    if reveal:
        runtime.relief.record_export(actor, "housing", str(disaster_id or ""), code.prefix, purpose)
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)  # noqa: SIM115 - closed once sent
    try:
        with projection_view(runtime, "housing", request.app.state.projections) as view:
            write_housing_list(view.iter_rows(code.prefix, str(disaster_id) if disaster_id else None), buffer,
                               subtitle=f"{found.name}（{code.prefix}）",
                               names=runtime.pii.decrypt if names_visible(actor, code.prefix) else None,
                               reveal=runtime.pii.decrypt if reveal else None)
    except BaseException:
        buffer.close()
        raise
    buffer.seek(0)
    return StreamingResponse(_chunks(buffer), media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"housing-{code.prefix}.xlsx\"; "
                               f"filename*=UTF-8''{quote(f'倒损住房户-{code.prefix}.xlsx')}"})


def _chunks(buffer: Any) -> Iterator[bytes]:
    try:
        while chunk := buffer.read(64 * 1024):
            yield chunk
    finally:
        buffer.close()
