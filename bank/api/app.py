"""The host's JSON API (FastAPI): ``/v1/...``, every call but ``/v1/health`` signed by an enrolled terminal.

Request and answer models are :mod:`hostlink.api`'s, so the published OpenAPI document is the contract
the terminal's client is written against. Protocol refusals are :class:`~hostlink.api.RefusalBody`
answers with a 4xx status and change nothing; business refusals are ordinary answers with ``refused``.
Mutating calls carry an ``Idempotency-Key`` header (and transfers, openings, bill payments and loan
applications an ``idempotency_key`` field the ledger keys on too): a repeated call gets the first answer.

Handlers are plain ``def`` functions: FastAPI runs them on its worker threads, and the bank services
they call are synchronous SQLAlchemy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bank.api import routes
from bank.db.engine import DatabaseUnavailable
from bank.host import Host
from bank.terminals.service import AuthRefused
from hostlink.api import API_PREFIX, API_VERSION, Health, Refusal, RefusalBody, RefusalCode

log = logging.getLogger(__name__)

STATUS_OF: dict[RefusalCode, int] = {
    RefusalCode.BAD_REQUEST: 400,
    RefusalCode.BODY_TOO_LARGE: 413,
    RefusalCode.UNAUTHENTICATED: 401,
    RefusalCode.UNKNOWN_TERMINAL: 401,
    RefusalCode.BAD_SIGNATURE: 401,
    RefusalCode.STALE_REQUEST: 401,
    RefusalCode.REPLAYED_REQUEST: 409,
    RefusalCode.TERMINAL_REVOKED: 403,
    RefusalCode.NOT_ALLOWED: 403,
    RefusalCode.IDEMPOTENCY_KEY_REUSED: 422,
    RefusalCode.IN_PROGRESS: 409,
    RefusalCode.NOT_FOUND: 404,
    RefusalCode.UNAVAILABLE: 503,
}
UNSIGNED_PATHS = frozenset({f"{API_PREFIX}/health", "/openapi.json", "/docs", "/docs/oauth2-redirect"})


def refusal(code: RefusalCode, message: str) -> JSONResponse:
    body = RefusalBody(refusal=Refusal(code=code, message=message))
    return JSONResponse(body.model_dump(mode="json"), status_code=STATUS_OF[code])


class BodyLimit:
    """Refuses a body over ``limit`` bytes with 413 before the application reads it (chunked bodies too)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await refusal(RefusalCode.BODY_TOO_LARGE, f"the body is over {self.limit} bytes")(
                scope, receive, send
            )
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # a disconnect: let the app see it
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await refusal(RefusalCode.BODY_TOO_LARGE, f"the body is over {self.limit} bytes")(
                    scope, receive, send
                )
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def create_app(host: Host) -> FastAPI:
    app = FastAPI(
        title="Smart Teller bank host API",
        version=API_VERSION,
        description=(
            "The JSON API between Smart Teller terminals and their bank host. Every call except /v1/health "
            "is signed by an enrolled terminal (see hostlink/signing.py and docs/host-api.md)."
        ),
    )
    app.state.host = host

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "malformed request"}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or "body"
        return refusal(RefusalCode.BAD_REQUEST, f"{where}: {first.get('msg', 'invalid')}"[:200])

    @app.exception_handler(AuthRefused)
    async def _auth(request: Request, exc: AuthRefused) -> JSONResponse:
        return refusal(exc.code, exc.message)

    @app.exception_handler(routes.NotFound)
    async def _not_found(request: Request, exc: routes.NotFound) -> JSONResponse:
        return refusal(RefusalCode.NOT_FOUND, str(exc))

    @app.exception_handler(routes.NotAllowed)
    async def _not_allowed(request: Request, exc: routes.NotAllowed) -> JSONResponse:
        return refusal(RefusalCode.NOT_ALLOWED, str(exc))

    @app.exception_handler(DatabaseUnavailable)
    async def _db_down(request: Request, exc: DatabaseUnavailable) -> JSONResponse:
        return refusal(RefusalCode.UNAVAILABLE, "the bank's database cannot be reached")

    @app.exception_handler(OperationalError)
    async def _db_error(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database error on %s: %s", request.url.path, type(exc.orig).__name__)
        return refusal(RefusalCode.UNAVAILABLE, "the bank's database cannot be reached")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return refusal(RefusalCode.UNAVAILABLE, "the host could not serve this request")

    @app.get(f"{API_PREFIX}/health", response_model=Health)
    def health() -> Health:
        return Health(
            status="ok",
            host_id=host.settings.host_id,
            api_version=API_VERSION,
            bank_day=host.today().isoformat(),
            timezone=host.settings.timezone,
        )

    routes.install(app, host, terminal_dependency(host))
    return app


def terminal_dependency(host: Host) -> Callable[..., Any]:
    async def authenticated_terminal(request: Request) -> str:
        body = await request.body()
        # The path as sent (percent-encoded), which is what the terminal signed.
        raw = request.scope.get("raw_path") or request.url.path.encode()
        query = request.scope.get("query_string") or b""
        path = raw.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
        headers = {k.lower(): v for k, v in request.headers.items()}
        # Authentication also keeps the journal head the call carries, in the nonce's commit.
        terminal_id: str = await run_in_threadpool(
            host.registry.authenticate, request.method, path, headers, body
        )
        return terminal_id

    return authenticated_terminal


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, built without a database: routes only read the host when they serve."""
    return create_app(cast(Host, None)).openapi()
