"""The request dependencies: the one place that reads `app.state` (FastAPI template style), and the
edge checks a route opts into: `AdmissionDep` on every route that runs the models, `FeedbackLimitDep`
on feedback, `AdminDep` on admin routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from api.admission import Admission, ClientGone, Overloaded
from api.limits import RateLimiter, retry_after
from api.metrics import Metrics
from api.schemas import ErrorOut
from api.security import bearer_token, challenge, client_of, hash_key, known
from qa.config import Settings
from qa.feedback import FeedbackStore
from qa.pipeline import Pipeline

# for the OpenAPI `responses` of a route that uses AdmissionDep
ADMISSION_RESPONSES = {429: {"model": ErrorOut, "description": "rate limited; see Retry-After"},
                       503: {"model": ErrorOut, "description": "busy or loading; see Retry-After"}}


def get_pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline


def get_settings(request: Request) -> Settings:
    return request.app.state.pipeline.settings


def get_feedback_store(request: Request) -> FeedbackStore:
    return request.app.state.feedback


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


def client(request: Request) -> str:
    """Whom limits count against: "key:<digest prefix>" for a verified API key, else "ip:<address>"."""
    return client_of(request.scope)


def _require_loaded(request: Request) -> None:
    if not get_pipeline(request).loaded:
        raise HTTPException(503, "the models are loading; try again shortly", headers={"Retry-After": "5"})


def _within_rate(request: Request, limiter: RateLimiter, reason: str) -> None:
    wait = limiter.wait(client(request))
    if wait:
        get_metrics(request).reject(reason)
        raise HTTPException(429, "too many requests from this client; slow down", headers=retry_after(wait))


async def admit(request: Request) -> AsyncIterator[None]:
    """Ready, within the client's QA_RATE_LIMIT_ASK, and holding one of QA_MAX_INFLIGHT slots until the
    response (a stream's last event included) is sent: a 503 with Retry-After when the short queue is
    full or its wait runs out. A client that leaves while queued gives its place up."""
    state = request.app.state
    _require_loaded(request)
    _within_rate(request, state.ask_limit, "rate_limit")
    admission: Admission = state.admission
    try:
        granted = await admission.acquire(request.is_disconnected)
    except Overloaded as exc:
        get_metrics(request).reject(exc.reason)
        raise HTTPException(503, str(exc), headers=retry_after(exc.retry_after_s)) from None
    except ClientGone:
        get_metrics(request).reject("client_gone")
        raise HTTPException(499, "the client closed the request while it waited") from None
    try:
        yield
    finally:
        admission.release(granted)


async def feedback_allowed(request: Request) -> None:
    """Ready (feedback is checked against the loaded document) and within QA_RATE_LIMIT_FEEDBACK;
    the daily quota is counted where the row is written."""
    _require_loaded(request)
    _within_rate(request, request.app.state.feedback_limit, "rate_limit")


async def require_admin(request: Request) -> None:
    """An admin key (QA_ADMIN_KEYS) in `Authorization: Bearer`; without any configured the routes are off."""
    digests = request.app.state.admin_keys
    if not digests:
        raise HTTPException(403, "admin routes are off; set QA_ADMIN_KEYS to use them")
    token = bearer_token(request.scope)
    if token is None or not known(hash_key(token), digests):
        get_metrics(request).reject("unauthorized")
        raise HTTPException(401, "this route needs an admin key", headers=challenge("invalid_token" if token else None))


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
FeedbackDep = Annotated[FeedbackStore, Depends(get_feedback_store)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
ClientDep = Annotated[str, Depends(client)]
AdmissionDep = Annotated[None, Depends(admit)]
FeedbackLimitDep = Annotated[None, Depends(feedback_allowed)]
AdminDep = Annotated[None, Depends(require_admin)]
