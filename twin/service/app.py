"""The FastAPI application of ``twin serve``: its parts, the token check and the error shape.

:func:`create_app` builds one app over a :class:`~twin.service.config.ServiceConfig`. Every
path but ``/health``, ``/docs`` and ``/openapi.json`` needs ``Authorization: Bearer TOKEN``:
missing, malformed, unknown or revoked gives 401, a role below the route's 403, more than the
token's rate 429 with Retry-After (docs/architecture.md, "Decision service").
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from twin.scenario import Scenario, load_scenario
from twin.service.audit import AuditLog
from twin.service.config import ServiceConfig
from twin.service.guard import Guard
from twin.service.jobs import JobManager
from twin.service.limits import RateLimiter
from twin.service.mirrored import MirroredState
from twin.service.models import ModelRegistry
from twin.service.roles import Role
from twin.service.schemas import ErrorBody
from twin.service.tokens import Principal, TokenStore
from twin.studies.store import package_versions

__all__ = ["ERROR_RESPONSES", "Services", "create_app", "fail", "require", "services_of"]

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "the body is not JSON",
        401: "no valid token",
        403: "the token's role is too low",
        404: "no such thing",
        409: "not possible in the current state",
        413: "body too large",
        422: "invalid request or over the simulation budget",
        429: "rate limit or job queue full; see Retry-After",
    }.items()
}
"""The error answers every versioned route may give, for the OpenAPI document."""


@dataclass
class Services:
    """The parts of one running service."""

    config: ServiceConfig
    tokens: TokenStore
    audit: AuditLog
    limiter: RateLimiter
    jobs: JobManager
    models: ModelRegistry
    scenario: Scenario | None
    mirror: MirroredState


def services_of(request: Request) -> Services:
    """The service parts of the app answering ``request``."""
    services: Services = request.app.state.services
    return services


def fail(status: int, *lines: str, headers: dict[str, str] | None = None) -> HTTPException:
    """An error answer with one problem per line (raise it)."""
    return HTTPException(status, detail=list(lines), headers=headers)


_bearer = HTTPBearer(auto_error=False, description="A token from `twin token create`.")


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits tokens of ``role`` or higher (see the module doc).

    It runs on the event loop, not in a worker thread: checking a known token takes
    microseconds, and a thread hop per request is what a loaded machine makes slow (the first
    argon2 check of a token, tens of milliseconds, happens once per token and server).
    """

    async def check(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Principal:
        services = services_of(request)
        challenge = {"WWW-Authenticate": "Bearer"}
        if credentials is None:
            raise fail(401, "Authorization: a bearer token is required", headers=challenge)
        principal = services.tokens.authenticate(credentials.credentials)
        if principal is None:
            raise fail(401, "Authorization: the token is not valid or was revoked", headers=challenge)
        request.state.principal = principal
        wait = services.limiter.acquire(principal.id)
        if wait:
            raise fail(
                429,
                f"rate: over {services.config.rate:g} requests per second for this token",
                headers={"Retry-After": RateLimiter.retry_after(wait)},
            )
        if principal.role < role:
            raise fail(
                403, f"role: this needs {role.label} or higher (token {principal.name} is {principal.role.label})"
            )
        return principal

    return check


def _error_body(lines: list[str], status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": "; ".join(lines), "problems": lines}, status_code=status, headers=headers)


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail
    lines = [str(line) for line in detail] if isinstance(detail, list) else [str(detail)]
    return _error_body(lines, error.status_code, dict(error.headers or {}))


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        lines.append(f"{where}: {str(item['msg'])[:1].lower()}{str(item['msg'])[1:]}")
    return _error_body(lines or ["request: invalid"], 422)


def create_app(config: ServiceConfig) -> FastAPI:
    """The service over ``config``'s data folder, run store and model registry.

    Raises:
        ScenarioError: ``config.scenario`` is not a valid scenario file.
    """
    from twin.service import api_models, api_runs

    version = package_versions(("factory-twin",))["factory-twin"]

    config.data.mkdir(parents=True, exist_ok=True)
    scenario = load_scenario(config.scenario) if config.scenario is not None else None
    services = Services(
        config=config,
        tokens=TokenStore(config.data),
        audit=AuditLog(config.data),
        limiter=RateLimiter(config.rate, config.burst),
        jobs=JobManager(config.job_timeout, config.queue_limit, config.workers),
        models=ModelRegistry(config.models_dir),
        scenario=scenario,
        mirror=MirroredState(scenario, config.mirror_state),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        services.jobs.close()

    app = FastAPI(
        title="factory-twin service",
        version=version,
        description="Runs, forecasts and dispatching decisions of the twin, for plant systems. "
        "Every path under /v1 needs a bearer token (`twin token create`).",
        lifespan=lifespan,
    )
    app.state.services = services
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        """Whether the service answers (no token needed)."""
        return {"status": "ok", "version": version}

    app.include_router(api_runs.router, responses=ERROR_RESPONSES)
    app.include_router(api_models.router, responses=ERROR_RESPONSES)
    app.add_middleware(Guard, audit=services.audit, max_body=config.max_body)
    return app
