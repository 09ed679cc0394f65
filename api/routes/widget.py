"""The embeddable chat widget's script, the demo page that carries it, and a third-party widget's demo."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from api.deps import SettingsDep

STATIC = Path(__file__).resolve().parent.parent / "static"
DEEP_CHAT_PAGE = (STATIC / "deep-chat.html").read_text(encoding="utf-8")

router = APIRouter()


def _demo_csp() -> str:
    """The demo page's strict policy: scripts from this server only, its one inline <style> by hash."""
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    styles = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'"
                      for css in re.findall(r"<style>(.*?)</style>", page, re.S))
    return (f"default-src 'none'; script-src 'self'; style-src 'self' {styles}; connect-src 'self'; "
            "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


DEMO_CSP = _demo_csp()


@router.get("/", include_in_schema=False)
def demo_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": DEMO_CSP})


@router.get("/widget.js", include_in_schema=False)
def widget_script() -> FileResponse:
    # short cache: embedding pages pick up a new widget within minutes of a deploy
    headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
    return FileResponse(STATIC / "widget.js", media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/demo/deep-chat", include_in_schema=False)
def deep_chat_demo(s: SettingsDep) -> HTMLResponse:
    """deep-chat (npm, MIT) over /v1/chat/completions; we do not ship its bundle: QA_DEEP_CHAT_URL says where it is."""
    values = {"DEEP_CHAT_URL": s.deep_chat_url, "MODEL_ID": s.chat_model_id}
    return HTMLResponse(re.sub(r"\{\{(\w+)\}\}", lambda m: html.escape(values[m[1]]), DEEP_CHAT_PAGE))
