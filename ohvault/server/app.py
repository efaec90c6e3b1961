"""The FastAPI application: wiring, error handlers, health endpoints, the routers.

What routes depend on (errors, context, authentication) lives in deps.py.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from ohvault import __version__
from ohvault.server import (
    routes_auth,
    routes_keyslots,
    routes_pairings,
    routes_snapshots,
    routes_vaults,
    schema,
)
from ohvault.server.api_models import HealthOut
from ohvault.server.config import ServerConfig
from ohvault.server.db import make_engine
from ohvault.server.deps import (
    ApiError,
    Ctx,
    ServerContext,
    error_response,
    errors,
)
from ohvault.server.limits import HashBusy, event
from ohvault.server.middleware import Gatekeeper, setup_server_logging
from ohvault.server.security import Passwords, Tokens

log = logging.getLogger("ohvault.server")


def create_app(config: ServerConfig, *, engine: Engine | None = None) -> FastAPI:
    setup_server_logging()
    engine = engine or make_engine(config.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        applied = schema.migrate(engine)
        if applied:
            log.info("schema migrated", extra={"fields": {"versions": applied}})
        yield
        engine.dispose()

    app = FastAPI(
        title="ohvault sync API",
        version="1",
        summary="Stores end-to-end encrypted bundles of an ohvault vault; it cannot read them.",
        lifespan=lifespan,
        # The interactive pages load scripts from a CDN; off unless asked for.
        docs_url="/docs" if config.enable_docs else None,
        redoc_url="/redoc" if config.enable_docs else None,
        openapi_url="/openapi.json" if config.enable_docs else None,
    )
    app.state.ctx = ServerContext(config, engine, Passwords(config), Tokens(config))

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(HashBusy)
    async def _busy(_request: Request, _exc: HashBusy) -> JSONResponse:
        event("hash_capacity_exhausted")
        return error_response(
            503, "busy", "The server is busy checking passwords; try again shortly.",
            {"Retry-After": "2"},
        )  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # Name the fields that are wrong, never echo what was sent.
        where = sorted({".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()})
        return error_response(422, "invalid_request", "Invalid fields: " + ", ".join(where))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # an unparseable body: the same answer as any invalid one
            return error_response(422, "invalid_request", "The request body is not valid JSON.")
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), dict(exc.headers or {}))

    @app.get("/health", response_model=HealthOut, tags=["health"])
    def health() -> HealthOut:
        """The process is up and configured."""
        return HealthOut(status="ok", version=__version__)

    @app.get("/live", response_model=HealthOut, tags=["health"])
    def live() -> HealthOut:
        """Liveness probe: answers as long as the event loop runs."""
        return HealthOut(status="alive")

    @app.get("/ready", response_model=HealthOut, responses=errors(503), tags=["health"])
    def ready(ctx: Ctx) -> HealthOut | JSONResponse:
        """Readiness probe: the database answers and its schema is current."""
        try:
            with ctx.engine.connect().execution_options(readonly=True) as conn:
                conn.execute(text("SELECT 1"))
                version = schema.current_version(conn)
        except Exception as exc:
            log.warning("storage not reachable", extra={"fields": {"error": type(exc).__name__}})
            return error_response(503, "storage_unavailable", "The database is not reachable.")
        if version != schema.LATEST:
            return error_response(503, "schema_outdated", "The database schema is not current.")
        return HealthOut(status="ready", schema_version=version)

    for routes in (routes_auth, routes_vaults, routes_snapshots, routes_keyslots, routes_pairings):
        app.include_router(routes.router)
    app.add_middleware(Gatekeeper, max_body_bytes=config.max_body_bytes)
    return app


def create_app_from_env() -> FastAPI:
    """The uvicorn factory (`ohvault serve`, several workers): configuration from the environment."""
    return create_app(ServerConfig.from_env())
