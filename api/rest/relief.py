"""REST commands and reads of relief funds and household cases (救助对象)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from api.deps import CurrentActor, ExpectedVersion, IdempotencyHeader, Runtime, idempotency_key
from api.files.relief import projection_view
from api.presenters import command_response
from api.times import shown
from ledger.households.evidence import Evidence, Signature
from ledger.households.household import Member, names_visible
from ledger.personal.identifiers import mask_address, mask_card, mask_id, mask_name, mask_phone
from ledger.relief.applications import Application
from ledger.relief.case import ReliefCase
from ledger.relief.fund import ReliefFund
from ledger.relief.season import evaluate
from ledger.relief.season_filing import NeedsFigures, check_figures
from ledger.relief.service import CHINA
from ledger.store.actors import Actor
from ledger.store.errors import Problems
from schemas.common import ERROR_RESPONSES, CommandOut
from schemas.relief import (
    AllocationIn,
    ApplicationIn,
    ApprovalIn,
    AssessmentIn,
    CaseOut,
    FundOut,
    GiveBackIn,
    GoodsIn,
    NeedsCorrectionIn,
    NeedsFilingIn,
    NeedsFilingOut,
    ObjectionIn,
    ObjectionResolutionIn,
    PaymentIn,
    PostingIn,
    ReasonIn,
)

router = APIRouter(prefix="/v1/relief", tags=["relief 救助"], responses=ERROR_RESPONSES)


def _answer(result: Any, kind: str) -> JSONResponse:
    response = command_response(result)
    response.headers["Location"] = f"/v1/relief/{kind}/{result.id}"
    return response


@router.post("/funds", status_code=201, response_model=CommandOut, summary="下达资金: allocate or top up a fund",
             responses={200: {"model": CommandOut, "description": "a top-up of the existing fund"}})
def allocate(body: AllocationIn, request: Request, runtime: Runtime, actor: CurrentActor,
             key: IdempotencyHeader = None) -> JSONResponse:
    """The fund is one per county, programme and period; a second allocation tops it up (201 then 200)."""
    result = runtime.relief.allocate(actor, body.county, body.programme, body.period, body.source, body.amount_fen,
                                     body.document, idempotency_key(request, actor, key, body))
    return _answer(result, "funds")


@router.post("/funds/{fund_id}/give-back", response_model=CommandOut, summary="资金收回: money returned upward")
def give_back(fund_id: UUID, body: GiveBackIn, request: Request, runtime: Runtime, actor: CurrentActor,
              key: IdempotencyHeader = None) -> JSONResponse:
    result = runtime.relief.give_back(actor, fund_id, body.amount_fen, body.document, body.reason,
                                      idempotency_key(request, actor, key, body))
    return _answer(result, "funds")


@router.get("/funds/{fund_id}", response_model=FundOut, summary="a fund and its balance")
def get_fund(fund_id: UUID, runtime: Runtime, actor: CurrentActor) -> dict[str, Any]:
    return fund_out(runtime.relief.fund(actor, fund_id))


@router.post("/cases", status_code=201, response_model=CommandOut, summary="户报: a household's application")
def apply(body: ApplicationIn, request: Request, runtime: Runtime, actor: CurrentActor,
          key: IdempotencyHeader = None) -> JSONResponse:
    """One open case per programme, period and household head: a second is refused with 409 and
    `details.existing_id`. The same head in another programme of the period is flagged for review."""
    values = body.model_dump()
    values["members"] = [Member(name=m.name, relation=m.relation, id_number=m.id_number, groups=tuple(m.groups),
                                in_need=m.in_need) for m in body.members]
    result = runtime.relief.apply(actor, Application(**values), idempotency_key(request, actor, key, body))
    return _answer(result, "cases")


@router.post("/cases/{case_id}/assessment", response_model=CommandOut, summary="村评: democratic assessment")
def assess(case_id: UUID, body: AssessmentIn, request: Request, runtime: Runtime, actor: CurrentActor,
           expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    result = runtime.relief.assess(actor, case_id, body.minutes_ref, body.approved, body.held_on, expected,
                                   idempotency_key(request, actor, key, body))
    return _answer(result, "cases")


@router.post("/cases/{case_id}/posting", response_model=CommandOut,
             summary="公示: public posting (≥ 7 days; not before the 村评; backdating beyond 2 days needs a reason)")
def post(case_id: UUID, body: PostingIn, request: Request, runtime: Runtime, actor: CurrentActor,
         expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    result = runtime.relief.post(actor, case_id, body.start, body.end, body.place, body.reason, expected,
                                 idempotency_key(request, actor, key, body))
    return _answer(result, "cases")


@router.post("/cases/{case_id}/objections", response_model=CommandOut, summary="异议: an objection to the posting")
def raise_objection(case_id: UUID, body: ObjectionIn, request: Request, runtime: Runtime, actor: CurrentActor,
                    key: IdempotencyHeader = None) -> JSONResponse:
    result = runtime.relief.raise_objection(actor, case_id, body.summary, body.raised_on,
                                            idempotency_key(request, actor, key, body))
    return _answer(result, "cases")


@router.post("/cases/{case_id}/objections/{objection_id}/resolution", response_model=CommandOut,
             summary="resolve an objection (upheld = the case is rejected)")
def resolve_objection(case_id: UUID, objection_id: str, body: ObjectionResolutionIn, request: Request,
                      runtime: Runtime, actor: CurrentActor, key: IdempotencyHeader = None) -> JSONResponse:
    result = runtime.relief.resolve_objection(actor, case_id, objection_id, body.resolution, body.upheld,
                                              idempotency_key(request, actor, key, body))
    return _answer(result, "cases")


@router.post("/cases/{case_id}/township-review", response_model=CommandOut,
             summary="乡审: township review (after the posting ended, objections resolved)")
def township_review(case_id: UUID, request: Request, runtime: Runtime, actor: CurrentActor,
                    expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    result = runtime.relief.township_review(actor, case_id, expected,
                                            idempotency_key(request, actor, key, {"review": True}))
    return _answer(result, "cases")


@router.post("/cases/{case_id}/approval", response_model=CommandOut, summary="县定: county approval with the amount")
def approve(case_id: UUID, body: ApprovalIn, request: Request, runtime: Runtime, actor: CurrentActor,
            expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    """Above the configured standard (per person or household) only with a written `reason`."""
    result = runtime.relief.approve(actor, case_id, body.amount_fen, body.reason, expected,
                                    idempotency_key(request, actor, key, body))
    return _answer(result, "cases")


@router.post("/cases/{case_id}/rejection", response_model=CommandOut, summary="驳回: reject at any step")
def reject(case_id: UUID, body: ReasonIn, request: Request, runtime: Runtime, actor: CurrentActor,
           expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    result = runtime.relief.reject(actor, case_id, body.reason, expected, idempotency_key(request, actor, key, body))
    return _answer(result, "cases")


@router.post("/cases/{case_id}/withdrawal", response_model=CommandOut, summary="撤回: withdraw the application")
def withdraw(case_id: UUID, body: ReasonIn, request: Request, runtime: Runtime, actor: CurrentActor,
             expected: ExpectedVersion = None, key: IdempotencyHeader = None) -> JSONResponse:
    result = runtime.relief.withdraw(actor, case_id, body.reason, expected,
                                     idempotency_key(request, actor, key, body))
    return _answer(result, "cases")


@router.post("/cases/{case_id}/payments", status_code=201, response_model=CommandOut,
             summary="发放: pay to the household's 一卡通 account")
def pay(case_id: UUID, body: PaymentIn, request: Request, runtime: Runtime, actor: CurrentActor,
        key: IdempotencyHeader = None) -> JSONResponse:
    """Never before approval, never above the approved amount nor the fund's balance (also under
    concurrent requests)."""
    result = runtime.relief.pay(actor, case_id, body.amount_fen, body.batch_id, body.bank_ref, body.payment_id,
                                idempotency_key(request, actor, key, body), body.method, signatures(body.signatures))
    return _answer(result, "cases")


@router.post("/cases/{case_id}/payments/{payment_id}/return", response_model=CommandOut,
             summary="退回: a payment returned by the bank or failed")
def payment_returned(case_id: UUID, payment_id: str, body: ReasonIn, request: Request, runtime: Runtime,
                     actor: CurrentActor, key: IdempotencyHeader = None) -> JSONResponse:
    result = runtime.relief.payment_came_back(actor, case_id, payment_id, body.reason, False,
                                              idempotency_key(request, actor, key, body))
    return _answer(result, "cases")


@router.post("/cases/{case_id}/payments/{payment_id}/reversal", response_model=CommandOut,
             summary="冲正: reverse a payment, with a reason")
def payment_reversed(case_id: UUID, payment_id: str, body: ReasonIn, request: Request, runtime: Runtime,
                     actor: CurrentActor, key: IdempotencyHeader = None) -> JSONResponse:
    result = runtime.relief.payment_came_back(actor, case_id, payment_id, body.reason, True,
                                              idempotency_key(request, actor, key, body))
    return _answer(result, "cases")


@router.post("/cases/{case_id}/goods", response_model=CommandOut, summary="发放物资: goods issued, valued in fen")
def issue_goods(case_id: UUID, body: GoodsIn, request: Request, runtime: Runtime, actor: CurrentActor,
                key: IdempotencyHeader = None) -> JSONResponse:
    result = runtime.relief.issue_goods(
        actor, case_id, body.item, body.quantity, body.value_fen, body.delivered_at,
        [Evidence(e.ref, e.type, e.name) for e in body.evidence], signatures(body.signatures), body.disaster_id,
        idempotency_key(request, actor, key, body))
    return _answer(result, "cases")


@router.get("/cases/{case_id}", response_model=CaseOut, summary="one case (personal data masked)")
def get_case(
    case_id: UUID, runtime: Runtime, actor: CurrentActor,
    reveal: Annotated[bool, Query(description="show unmasked personal data (county and relief officers)")] = False,
    purpose: Annotated[str, Query(max_length=500, description="why the unmasked data is needed (recorded)")] = "",
) -> dict[str, Any]:
    """Personal data is masked (320921********1234). Roles that need the full values ask with
    `reveal=true&purpose=…`; every such read is recorded."""
    case = runtime.relief.reveal(actor, case_id, purpose) if reveal else runtime.relief.get(actor, case_id)
    return case_out(case, actor, masked=not reveal)


def signatures(items: list[Any]) -> list[Signature]:
    return [Signature(s.party, s.name, s.signed_on, s.evidence) for s in items]


def fund_out(fund: ReliefFund) -> dict[str, Any]:
    return {
        "id": str(fund.id), "version": fund.version, "county": fund.county, "programme": fund.programme,
        "period": fund.period, "allocated_fen": fund.allocated, "given_back_fen": fund.withdrawn,
        "paid_fen": fund.paid, "returned_fen": fund.returned, "balance_fen": fund.balance,
        "documents": fund.documents,
    }


def case_out(case: ReliefCase, actor: Actor, masked: bool) -> dict[str, Any]:
    def shown(value: str, mask: Any) -> str:
        return mask(value) if masked else value

    named = not masked or names_visible(actor, case.village)

    def name(value: str) -> str:
        return value if named else mask_name(value)

    return jsonable_encoder({
        "id": str(case.id), "version": case.version, "programme": case.programme, "period": case.period,
        "county": case.county, "township": case.township, "village": case.village, "stage": case.stage.value,
        "head_name": name(case.head_name), "id_number": shown(case.id_number, mask_id),
        "phone": shown(case.phone, mask_phone), "card_number": shown(case.card_number, mask_card),
        "masked": masked, "household_type": case.household_type, "household_size": case.household_size,
        "people_in_need": case.people_in_need, "address": case.address if named else mask_address(case.address),
        "members": [{**m, "name": name(m["name"]), "id_number": shown(m["id_number"], mask_id)}
                    for m in case.members],
        "disaster_id": str(case.disaster_id) if case.disaster_id else None, "causes": case.causes,
        "needs": case.needs, "review_flags": case.review_flags, "assessment": case.assessment,
        "posting": case.posting, "objections": case.objections, "approved_fen": case.approved_amount,
        "paid_fen": case.paid_total, "goods_fen": case.goods_total,
        "payments": {k: {**v, "fund_id": str(v["fund_id"])} for k, v in case.payments.items()},
        "goods": [{**g, "disaster_id": str(g["disaster_id"]) if g.get("disaster_id") else None} for g in case.goods],
        "closing_reason": case.closing_reason,
    })


# --- 冬春 需救助 statistics filed upward ---------------------------------------------------------------


SeasonPath = Annotated[str, Path(pattern=r"^\d{4}-\d{4}$", description="a 冬春 season such as 2026-2027",
                                  examples=["2026-2027"])]
AreaPath = Annotated[str, Path(pattern=r"^\d{2}(\d{2}(\d{2})?)?$", description="county 6, city 4 or province 2 digits",
                                examples=["320921"])]


def _needs(runtime: Any, request: Request, period: str, area: str) -> dict[str, int]:
    """What the roster holds for the area now: 需救助户数 and 人数 of the season (after 乡审)."""
    with projection_view(runtime, "roster", request.app.state.projections) as view:
        totals = view.winter_spring_statistics(area, period).totals
    return {"households": totals["need_households"], "people": totals["need_people"]}


def _figures(households: Any, people: Any, by_need: dict[str, int]) -> NeedsFigures:
    problems = Problems()
    figures = check_figures(households, people, by_need, problems)
    problems.raise_if_any("冬春需救助情况报送有误", "invalid 冬春 figures")
    return figures


@router.post("/winter-spring/{period}/needs-filings", status_code=201, response_model=CommandOut,
             summary="冬春需救助情况上报: a county, city or province files the season's figures upward")
def file_needs(period: SeasonPath, body: NeedsFilingIn, request: Request, runtime: Runtime, actor: CurrentActor,
               key: IdempotencyHeader = None) -> JSONResponse:
    """One filing per area and season (a second answers 409 with `details.existing_id`; correct it with a
    reason instead). Figures left out are taken from the roster (cases past 乡审); the roster's figures at
    the moment of filing are kept beside those filed. The filing's recorded time stops the season's
    upward clock (county → 市 by 10月15日, 市 → 省 by 10月20日, 省 → 部 by 10月25日 by default)."""
    roster = _needs(runtime, request, period, body.area) if body.area.isdigit() else {}
    figures = _figures(roster.get("households", 0) if body.households is None else body.households,
                       roster.get("people", 0) if body.people is None else body.people, body.by_need)
    result = runtime.season_filings.file(actor, period, body.area, figures, roster, body.note,
                                         idempotency_key(request, actor, key, body))
    response = command_response(result)
    response.headers["Location"] = f"/v1/relief/winter-spring/{period}/needs-filings/{body.area}"
    return response


@router.post("/winter-spring/{period}/needs-filings/{area}/corrections", response_model=CommandOut,
             summary="更正冬春需救助情况: new figures with a written reason (the first filing's time stays)")
def correct_needs(period: SeasonPath, area: AreaPath, body: NeedsCorrectionIn, request: Request, runtime: Runtime,
                  actor: CurrentActor, key: IdempotencyHeader = None) -> JSONResponse:
    figures = _figures(body.households, body.people, body.by_need)
    roster = _needs(runtime, request, period, area) if area.isdigit() else {}
    result = runtime.season_filings.correct(actor, period, area, figures, roster, body.reason,
                                            idempotency_key(request, actor, key, body))
    return command_response(result)


@router.get("/winter-spring/{period}/needs-filings/{area}", response_model=NeedsFilingOut,
            summary="one area's filed 冬春需救助情况, with the roster's figures and the clock's verdict")
def get_needs(period: SeasonPath, area: AreaPath, runtime: Runtime, actor: CurrentActor) -> dict[str, Any]:
    filing = runtime.season_filings.get(actor, period, area)
    flag = evaluate(runtime.relief_rules.season, f"upward_{filing.level}", filing.level, area, period,
                    filing.filed_at, runtime.now().astimezone(CHINA).date())
    return {
        "id": str(filing.id), "version": filing.version, "period": period, "level": filing.level, "area": area,
        **filing.figures, "roster_households": filing.roster.get("households"),
        "roster_people": filing.roster.get("people"), "note": filing.note, "filed_at": shown(filing.filed_at),
        "filed_by": filing.filed_by["username"], "corrections": filing.corrections,
        "due_on": flag.due_on.isoformat(), "status": flag.status, "days_late": flag.days_late,
    }
