"""Routes of models, decisions, tokens and the audit log.

Models are exported dispatchers (ONNX, see :mod:`twin.service.policy`) uploaded as the body of
``PUT /v1/models/{id}`` (``application/octet-stream``); each upload is a new version, which
serves once promoted. ``POST /v1/decide`` answers with the serving version (or the one named)
through onnxruntime.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from twin.errors import ScenarioError
from twin.service.app import fail, require, services_of
from twin.service.audit import verify_audit
from twin.service.decisions import decide_from_state
from twin.service.mirrored import NoMirror, plant_of
from twin.service.models import MODEL_ID, ModelConflict, UnknownModel
from twin.service.policy import OnnxPolicy, PolicyError
from twin.service.roles import Role
from twin.service.schemas import DecideRequest, PromoteRequest, TokenRequest
from twin.service.tokens import Principal, TokenError

__all__ = ["router"]

router = APIRouter(prefix="/v1")

Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
ModelId = Annotated[str, PathParam(pattern=MODEL_ID)]
TokenName = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")]

_ONNX_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get("/models", tags=["models"])
def list_models(request: Request, _: Viewer) -> list[dict[str, Any]]:
    """Every model: id, serving version and its hash, number of versions."""
    return services_of(request).models.list()


@router.get("/models/{model_id}", tags=["models"])
def get_model(model_id: ModelId, request: Request, _: Viewer) -> dict[str, Any]:
    """One model: serving version, earlier serving versions, every version's hash and card."""
    try:
        return services_of(request).models.get(model_id)
    except UnknownModel as error:
        raise fail(404, str(error)) from None


@router.put("/models/{model_id}", status_code=201, tags=["models"], openapi_extra=_ONNX_BODY)
async def upload_model(model_id: ModelId, request: Request, principal: Admin) -> dict[str, Any]:
    """Store the body (an ONNX file from ``twin export``) as the model's next version."""
    content = await request.body()
    try:
        return services_of(request).models.upload(model_id, content, by=principal.name)
    except (UnknownModel, PolicyError) as error:
        raise fail(422, str(error)) from None


@router.post("/models/{model_id}/promote", tags=["models"])
def promote_model(model_id: ModelId, body: PromoteRequest, request: Request, _: Admin) -> dict[str, Any]:
    """Serve ``version`` from now on (the one serving before can be rolled back to)."""
    try:
        return services_of(request).models.promote(model_id, body.version)
    except UnknownModel as error:
        raise fail(404, str(error)) from None


@router.post("/models/{model_id}/rollback", tags=["models"])
def rollback_model(model_id: ModelId, request: Request, _: Admin) -> dict[str, Any]:
    """Serve again the version that served before; 409 when there is none."""
    try:
        return services_of(request).models.rollback(model_id)
    except UnknownModel as error:
        raise fail(404, str(error)) from None
    except ModelConflict as error:
        raise fail(409, str(error)) from None


@router.post("/decide", tags=["decisions"])
async def decide(body: DecideRequest, request: Request, _: Operator) -> dict[str, Any]:
    """The job a model chooses for the station that must decide, from an env observation and
    its mask, or from a scenario and a plant state (default: the served scenario and the
    mirror's state; the twin runs from the state to the next decision, see
    :mod:`twin.service.decisions`): ``action`` (the job's slot in the station's
    queue, in order of entry), ``job`` (its id in the state), every action's probability (zero
    where masked), the model version and hash, and the rule to fall back to.

    An observation is answered on the event loop (a fraction of a millisecond); a plant state
    in a worker thread (the twin runs, tens of milliseconds)."""
    models = services_of(request).models
    try:
        version, digest, policy = models.policy(body.model, body.version)
    except UnknownModel as error:
        raise fail(404, str(error)) from None
    except ModelConflict as error:
        raise fail(409, str(error)) from None
    request.state.model_version = f"{body.model}@{version}"
    answer: dict[str, Any] = {"model": body.model, "version": version, "hash": digest}
    try:
        if body.observation is not None and body.mask is not None:
            return answer | _from_observation(policy, body.observation, body.mask)
        scenario, state = plant_of(services_of(request).mirror, body.scenario, [], body.state)
        return answer | await run_in_threadpool(decide_from_state, policy, scenario, state)
    except ScenarioError as error:
        raise fail(422, *[str(problem) for problem in error.problems]) from None
    except (PolicyError, NoMirror) as error:
        raise fail(422, str(error)) from None


def _from_observation(policy: OnnxPolicy, observation: list[float], mask: list[bool]) -> dict[str, Any]:
    decision = policy.decide(observation, mask)
    stations = int(policy.card.get("stations", 0))
    onehot = observation[3 : 3 + stations]
    station = max(range(stations), key=onehot.__getitem__) if stations and max(onehot) > 0 else None
    return {
        "station": station,
        "job": None,
        "action": decision.action,
        "probabilities": decision.probabilities,
        "fallback_rule": str(policy.card.get("fallback_rule", "fifo")),
    }


@router.get("/tokens", tags=["tokens"])
def list_tokens(request: Request, _: Admin) -> list[dict[str, Any]]:
    """Every token (revoked ones too) without its hash."""
    return services_of(request).tokens.list()


@router.post("/tokens", status_code=201, tags=["tokens"])
def create_token(body: TokenRequest, request: Request, _: Admin) -> dict[str, str]:
    """A new token: its text is in this answer only (``{"token", "name", "role"}``)."""
    try:
        text, owner = services_of(request).tokens.create(Role.parse(body.role), body.name)
    except TokenError as error:
        raise fail(422, str(error).replace("--name", "name")) from None
    return {"token": text, "name": owner.name, "role": owner.role.label}


@router.delete("/tokens/{name}", tags=["tokens"])
def revoke_token(name: TokenName, request: Request, _: Admin) -> dict[str, Any]:
    """Revoke every live token of this name (or the one of this id)."""
    try:
        owners = services_of(request).tokens.revoke(name)
    except TokenError as error:
        raise fail(404, str(error)) from None
    return {"revoked": [{"id": owner.id, "name": owner.name, "role": owner.role.label} for owner in owners]}


@router.get("/audit/verify", tags=["audit"])
def verify(request: Request, _: Admin) -> dict[str, Any]:
    """Check the audit log's chain, as ``twin audit verify``."""
    found = verify_audit(services_of(request).config.data)
    return {"intact": found.intact, "lines": found.lines, "problems": found.problems}
