"""deep-chat, a third-party chat web component (npm, MIT), answering through /v1/chat/completions in headless
Chromium. Its bundle is never committed: the test fetches the pinned version with `npm pack` and serves it
from the test app through a QA_DEEP_CHAT_URL override. Without npm, the registry or Chromium it skips.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import test_widget_browser as widget_tests  # the suite's Chromium launch (flags) and page helpers
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import get_settings
from qa.config import Settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

browser, expect = widget_tests.browser, widget_tests.expect  # the fixtures themselves, shared
DEFAULT_URL = Settings.model_fields["deep_chat_url"].default
VERSION = re.search(r"deep-chat@([^/]+)/", DEFAULT_URL)[1]
FLOODS = "巴基斯坦的暴雨洪灾波及了多少人?"


def page_with(app_settings: Settings, settings: Settings, pipeline) -> str:
    """The demo page as an app whose settings are `app_settings` serves it."""
    app = create_app(settings, pipeline)
    app.dependency_overrides[get_settings] = lambda: app_settings
    response = TestClient(app).get("/demo/deep-chat")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response.text


def test_the_page_loads_the_pinned_bundle_and_escapes_the_configured_url(settings, pipeline):
    page = page_with(pipeline.settings, settings, pipeline)
    assert f'<script type="module" src="{DEFAULT_URL}"' in page and 'data-model="cited-qa"' in page
    hostile = 'https://cdn.example/x.js"><script>alert(1)</script>'
    page = page_with(pipeline.settings.model_copy(update={"deep_chat_url": hostile}), settings, pipeline)
    assert f'src="{html.escape(hostile)}"' in page and "<script>alert" not in page


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """A folder holding deepChat.bundle.js of the pinned version, from the npm registry."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("deep-chat test skipped: npm is not installed (it fetches the deep-chat bundle)")
    folder = tmp_path_factory.mktemp("deep-chat")
    command = f"npm pack deep-chat@{VERSION}"
    try:
        packed = subprocess.run([npm, *command.split()[1:], "--pack-destination", str(folder)],
                                capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        pytest.skip(f"deep-chat test skipped: `{command}` timed out; is the npm registry reachable?")
    if packed.returncode != 0:
        why = (packed.stderr.strip().splitlines() or ["no output"])[0]  # e.g. npm error code ECONNREFUSED
        pytest.skip(f"deep-chat test skipped: `{command}` failed ({why}); is the npm registry reachable?")
    with tarfile.open(folder / packed.stdout.strip().splitlines()[-1]) as tar:
        (folder / "deepChat.bundle.js").write_bytes(tar.extractfile("package/dist/deepChat.bundle.js").read())
    return folder


@pytest.fixture(scope="module")
def deep_chat_server(bundle, settings, pipeline, serve_app) -> Iterator:
    """The app, with QA_DEEP_CHAT_URL pointing at the fetched bundle, which it also serves."""
    app = create_app(settings, pipeline)
    app.mount("/vendor", StaticFiles(directory=bundle))
    local = pipeline.settings.model_copy(update={"deep_chat_url": "/vendor/deepChat.bundle.js"})
    app.dependency_overrides[get_settings] = lambda: local
    with serve_app(app) as server:
        yield server


def test_deep_chat_asks_and_shows_the_cited_answer(browser, expect, deep_chat_server, pipeline):
    best = pipeline.ask(FLOODS).answers[0]
    assert best.passage.paragraph == 121, "the pipeline cites paragraph 121 for this question"
    errors: list[str] = []
    page = widget_tests.new_page(browser, 1024, 800)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{deep_chat_server.url}/demo/deep-chat")
    box = page.locator("deep-chat #text-input")
    expect(box).to_be_visible()
    box.click()
    page.keyboard.type(FLOODS)
    with page.expect_request(f"{deep_chat_server.url}/v1/chat/completions") as sent:
        page.keyboard.press("Enter")
    body = sent.value.post_data_json
    assert (body["model"], body["stream"], body["messages"][-1]) == ("cited-qa", True,
                                                                     {"role": "user", "content": FLOODS})

    reply = page.locator("deep-chat .ai-message-text").filter(has_text="Sources:")
    expect(reply).to_contain_text(f"{best.text} [¶121]")
    expect(reply).to_contain_text(f"Sources: ¶121 ({best.passage.section})")
    expect(page.locator("#load-error")).to_be_hidden()
    assert errors == []
    page.screenshot(path=str(widget_tests.ARTIFACTS / "deep-chat.png"))
    page.context.close()
