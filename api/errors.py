"""How errors reach a client: always JSON, never a traceback. `{"error": "what was wrong"}`, except on the OpenAI
routes, whose clients (the SDKs) parse OpenAI's `{"error": {"message", "type", "code", "param"}}`: there every error,
the middleware's 401 and 413 included, has that shape."""

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


OPENAI_PATHS = ("/v1/chat/", "/v1/models")


def openai_error_body(status: int, message: str, code: str | None = None, param: str | None = None) -> dict:
    kind = "server_error" if status >= 500 else "rate_limit_error" if status == 429 else "invalid_request_error"
    code = code or {401: "invalid_api_key"}.get(status)
    return {"error": {"message": message, "type": kind, "code": code, "param": param}}


def openai_error(status: int, message: str, code: str | None = None, param: str | None = None,
                 headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=openai_error_body(status, message, code, param), headers=headers)


def error_response(status: int, message: str, headers: dict[str, str] | None = None, path: str = "") -> JSONResponse:
    """The error for a request to `path`, also from middleware that answers before the app's handlers are reached."""
    if path.startswith(OPENAI_PATHS):
        return openai_error(status, message, headers=headers)
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
        return error_response(exc.status_code, str(exc.detail), exc.headers, request.url.path)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse(status_code=500, content={"error": "internal error; the server log has the details"})
