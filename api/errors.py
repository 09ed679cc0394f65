"""How errors reach a client: always JSON with an `error` line, never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa.types import InputError

log = logging.getLogger(__name__)


def _readable(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(x) for x in err.get("loc", []) if x != "body") or "body"
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        parts.append(f"{field}: {msg}")
    return "; ".join(parts)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error shape, for middleware that answers before the app's handlers are reached."""
    return JSONResponse(status_code=status, content={"error": message}, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        # only location, message and type: `input` may be a 100 kB question, `ctx` holds exceptions
        detail = [{k: err.get(k) for k in ("loc", "msg", "type")} for err in exc.errors()]
        return JSONResponse(status_code=422, content={"error": _readable(exc), "detail": detail})

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError):
        return JSONResponse(status_code=422, content={"error": f"{exc.field}: {exc}" if exc.field else str(exc)})

    @app.exception_handler(StarletteHTTPException)  # also unknown routes and wrong methods
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):  # FastAPI's body reader
            return error_response(422, f"body: not UTF-8 JSON ({exc.__cause__.reason} at byte {exc.__cause__.start})")
        return error_response(exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse(status_code=500, content={"error": "internal error; the server log has the details"})
