"""Who may call, and what every response tells a browser: API keys (kept hashed at rest), the client
identity limits are counted against, and the security headers."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response

# what a browser or a monitor needs without a key: probes, the demo page and the widget script
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/", "/widget.js"})
KEY_PREFIX_CHARS = 12  # of a key's digest: enough to tell keys apart in logs and feedback rows

# JSON and scripts render nothing: forbid everything (a CSP on widget.js binds no page that loads it).
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
# pages without a policy of their own (/docs from a CDN, other demos): no framing, plugins, <base> or
# foreign form targets; the demo page at / sets a strict one (api/routes/widget.py)
PAGE_CSP = "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
HEADERS = {"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}


def hash_key(key: str) -> str:
    """What QA_API_KEYS / QA_ADMIN_KEYS hold for a key: its sha256, hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return "qa_" + secrets.token_urlsafe(32)


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            return (token.strip() or None) if kind.lower() == "bearer" else None
    return None


def known(digest: str, digests: list[str]) -> bool:
    """Constant time per candidate, and every candidate compared: timing says nothing about the keys."""
    found = False
    for candidate in digests:
        found |= hmac.compare_digest(digest, candidate)
    return found


def client_of(scope: Scope) -> str:
    """Whom limits and quotas count against: the verified key (a digest prefix), else the address
    (uvicorn puts the X-Forwarded-For address there for requests from QA_TRUSTED_PROXIES)."""
    key = scope.get("state", {}).get("api_key")
    if key:
        return f"key:{key}"
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


def challenge(error: str | None = None) -> dict[str, str]:
    """The WWW-Authenticate header of a 401 (RFC 6750): how to authenticate, and what was wrong."""
    return {"WWW-Authenticate": f'Bearer realm="qa", error="{error}"' if error else 'Bearer realm="qa"'}


class ApiKeyMiddleware:
    """With keys configured, every route but the open ones needs `Authorization: Bearer KEY` (an API or an
    admin key); a verified key's digest prefix goes to `scope["state"]["api_key"]`. CORS preflights are
    answered outside this, so browsers can ask before sending the key."""

    def __init__(self, app: ASGIApp, digests: list[str], on_reject=lambda reason: None) -> None:
        self.app, self.digests, self.on_reject = app, digests, on_reject

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.digests:
            await self.app(scope, receive, send)
            return
        token = bearer_token(scope)
        digest = hash_key(token) if token else None
        if digest and known(digest, self.digests):
            scope.setdefault("state", {})["api_key"] = digest[:KEY_PREFIX_CHARS]
        elif scope["path"] not in OPEN_PATHS:
            self.on_reject("unauthorized")
            message = "this API needs a key: Authorization: Bearer KEY" if token is None else "the API key is not valid"
            headers = challenge(None if token is None else "invalid_token")
            await error_response(401, message, headers, scope["path"])(scope, receive, send)
            return
        await self.app(scope, receive, send)


class SecurityHeadersMiddleware:
    """Adds the security headers to every response; a route's own CSP wins (the demo page sets a strict one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                page = headers.get("content-type", "").startswith("text/html")
                for name, value in {**HEADERS, "Content-Security-Policy": PAGE_CSP if page else API_CSP}.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)
