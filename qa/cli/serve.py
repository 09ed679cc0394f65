"""`qa serve` (the HTTP API) and `qa keys` (API keys for it). The one place the CLI reaches up into api/: serving
runs the app."""

from __future__ import annotations

import sys

from qa.cli.common import UserError, index_options, settings_of
from qa.config import Settings


def register(sub) -> None:
    p = sub.add_parser("serve", help="run the HTTP API (builds the index first if there is none)")
    p.add_argument("--host", help="default 127.0.0.1")
    p.add_argument("--port", type=int, help="default 8000")
    index_options(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("keys", help="API keys: make one, or hash one for QA_API_KEYS / QA_ADMIN_KEYS")
    ksub = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    k = ksub.add_parser("new", help="print a new random key and the sha256 that goes into the settings")
    k.set_defaults(func=cmd_keys)
    k = ksub.add_parser("hash", help="print the sha256 of a key (read from standard input without KEY)")
    k.add_argument("key", nargs="?", help="the key; leave it out to keep it out of the shell history")
    k.set_defaults(func=cmd_keys)


def cmd_serve(args) -> int:
    import uvicorn

    from api.app import create_app  # the one command that reaches up into api/: it runs the app
    from qa.pipeline import Pipeline
    from qa.storage.collection import ensure_index

    s = settings_of(args)
    ensure_index(s, progress=sys.stderr.isatty())  # builds one when there is none; a stale one is refused
    app = create_app(s, Pipeline(s).load())  # loaded here, a model problem is one line, not the server's traceback
    uvicorn.run(app, host=args.host or s.host, port=args.port or s.port, log_level="info", **serve_options(s))
    return 0


def serve_options(s: Settings) -> dict:
    """What uvicorn itself enforces (docs/DEPLOYMENT.md): idle keep-alive connections closed, request heads
    bounded, connections capped (503 past it), the client address taken from trusted proxies only. h11 is
    named so the head limit holds; it has no timeout for a head sent slowly: that is the proxy's job."""
    return {"http": "h11", "timeout_keep_alive": s.keep_alive_s, "h11_max_incomplete_event_size": s.max_header_bytes,
            "limit_concurrency": s.max_connections, "proxy_headers": True, "forwarded_allow_ips": s.trusted_proxies,
            "server_header": False, "timeout_graceful_shutdown": 10}


def cmd_keys(args) -> int:
    from api.security import hash_key, new_key

    if args.keys_command == "new":
        key = new_key()
        print(f"key     {key}\nsha256  {hash_key(key)}")
        print("give the key to its holder; put only the sha256 in QA_API_KEYS or QA_ADMIN_KEYS "
              "(a JSON list: QA_API_KEYS='[\"SHA256\", ...]')", file=sys.stderr)
        return 0
    key = args.key if args.key is not None else sys.stdin.readline().strip()
    if not key:
        raise UserError("no key given (pass it, or one line on standard input)")
    print(hash_key(key))
    return 0
