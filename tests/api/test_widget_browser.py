"""The chat widget as people use it: headless Debian Chromium driven by Playwright against a real server.

Needs `/usr/bin/chromium` (apt-get install chromium) and the `playwright` package (the test extras);
never `playwright install`: the tests drive the system browser. Without them these tests skip.
Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from api.app import create_app
from qa.pipeline import Pipeline
from qa.storage.collection import build_index

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WIDGET_JS = Path(__file__).resolve().parents[2] / "api" / "static" / "widget.js"
QUESTION = "2022年人道主義應急計劃實際需要多少資金?"
UNANSWERABLE = "火星上有幾隻貓?"
UNMATCHED_YEAR = "兩個人道主義集合基金2017年為阿富汗撥了多少款?"
PAYLOAD = "<img src=x onerror=alert(1)>"
HOW_TO = ("needs Debian's Chromium and Playwright for Python: `apt-get install chromium` and "
          "`pip install -e '.[test]'` (do not run `playwright install`; the tests drive /usr/bin/chromium)")
SHADOW_TAGS = "document.querySelector('qa-chat').shadowRoot.querySelectorAll('{}').length"


# ---- without a browser ---------------------------------------------------------------------


def test_the_widget_script_never_parses_strings_as_html():
    """The rule that keeps server strings inert, checked where no browser is at hand."""
    source = WIDGET_JS.read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                 "createContextualFragment", "DOMParser"):
        assert sink not in source, f"widget.js uses {sink}"


def test_the_demo_page_and_script_are_served(client):
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="zh-Hant">' in page.text and 'src="/widget.js"' in page.text
    script = client.get("/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.headers["x-content-type-options"] == "nosniff"
    assert 'customElements.define("qa-chat"' in script.text


# ---- in Chromium ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests skipped: {CHROMIUM} is missing; {HOW_TO}")
    sync_api = pytest.importorskip("playwright.sync_api", reason=f"browser tests skipped: {HOW_TO}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)  # a question takes ~0.5 s, but the CI machine is small and shared
    return expect


def new_page(browser, width: int, height: int, dialogs: list[str] | None = None):
    mobile = width < 500
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=2 if mobile else 1,
                                  is_mobile=mobile, has_touch=mobile, locale="zh-TW")
    page = context.new_page()
    if dialogs is not None:
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return page


def shadow_active(page) -> str | None:
    """What has focus inside the widget: the class or id of the focused element, or None."""
    return page.evaluate(
        "() => { const host = document.querySelector('qa-chat'); const el = host && host.shadowRoot.activeElement;"
        " return document.activeElement === host && el ? (el.id || el.className) : null; }"
    )


def test_desktop_ask_see_the_cited_span_expand_and_send_feedback(browser, expect, live, pipeline):
    best = pipeline.ask(QUESTION).answers[0]
    assert best.passage.paragraph == 119, "the pipeline cites paragraph 119 for this question"
    page = new_page(browser, 1280, 860)
    page.goto(f"{live.url}/")
    expect(page.locator("h1")).to_contain_text("秘書長關於聯合國工作的報告")

    page.get_by_role("button", name="開啟文件問答").click()
    page.get_by_role("textbox", name="輸入您的問題").fill(QUESTION)
    page.get_by_role("button", name="發送").click()

    answer = page.locator("qa-chat article.answer")
    expect(answer.locator(".answer-text")).to_have_text(best.text)
    expect(answer.locator("blockquote mark")).to_have_text(best.text)  # the span, highlighted inside its context
    expect(answer.locator("blockquote")).to_contain_text(best.context)
    chip = answer.locator(".chip")
    expect(chip).to_have_text(f"第{best.passage.paragraph}段 · {best.passage.section}")
    expect(answer.locator(".confidence")).to_have_attribute("title", re.compile(r"信心:\d+%"))
    level = "high" if best.score >= 0.9 else "medium" if best.score >= 0.8 else "low"  # the widget's levels
    expect(answer.locator(".confidence")).to_have_attribute("data-level", level)
    expect(page.locator("qa-chat [role=status][aria-live=polite]")).to_contain_text(f"回答:{best.text}")

    full = answer.locator(".full")
    expect(full).to_be_hidden()
    chip.click()
    expect(chip).to_have_attribute("aria-expanded", "true")
    expect(full).to_be_visible()
    expect(full).to_contain_text(best.passage.text)
    expect(full.locator("mark")).to_have_text(best.text)
    link = full.locator("a.open-document")  # the original, served by GET /v1/documents/{id}/file
    expect(link).to_have_attribute("href", f"{live.url}/v1/documents/{best.passage.document.id}/file")

    with page.expect_request(lambda r: r.url == f"{live.url}/v1/feedback" and r.method == "POST") as sent:
        page.get_by_role("button", name="有幫助", exact=True).click()
    assert sent.value.post_data_json == {
        "question": QUESTION, "answer": best.text, "passage_id": best.passage.id, "paragraph": 119,
        "helpful": True, "correct_answer": None, "correct_paragraph": None,
    }
    if any(getattr(route, "path", None) == "/v1/feedback" for route in live.app.routes):
        response = sent.value.response()
        assert response.status == 201 and isinstance(response.json()["id"], int)
        expect(page.locator("qa-chat .feedback-note")).to_have_text("感謝您的回饋")
        expect(page.get_by_role("button", name="有幫助", exact=True)).to_have_attribute("aria-pressed", "true")
    page.locator("qa-chat .question").scroll_into_view_if_needed()  # back up to the question for the picture
    page.screenshot(path=str(ARTIFACTS / "widget-desktop.png"))
    page.context.close()


def test_phone_keyboard_only_history_survives_reload_and_no_answer_is_honest(browser, expect, live, pipeline):
    best = pipeline.ask(QUESTION).answers[0]
    assert pipeline.ask(UNANSWERABLE).no_answer, "the pipeline finds no answer to this question"
    page = new_page(browser, 375, 740)
    page.goto(f"{live.url}/")
    launcher = page.get_by_role("button", name="開啟文件問答")
    expect(launcher).to_be_visible()

    for _ in range(20):  # Tab through the page's links to the launcher
        page.keyboard.press("Tab")
        if shadow_active(page) == "launcher":
            break
    assert shadow_active(page) == "launcher"
    page.keyboard.press("Enter")
    panel = page.locator("qa-chat .panel")
    expect(panel).to_be_visible()
    expect(page.locator("qa-chat .launcher")).to_have_attribute("aria-expanded", "true")  # covered by the panel here
    assert shadow_active(page) == "question"  # opening puts the cursor in the question box
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    answer = page.locator("qa-chat article.answer")
    expect(answer.locator(".answer-text")).to_have_text(best.text)

    box = panel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing sticks out sideways
    page.screenshot(path=str(ARTIFACTS / "widget-phone.png"))

    for _ in range(10):  # back from the question box to the citation chip, open it from the keyboard
        page.keyboard.press("Shift+Tab")
        if shadow_active(page) == "chip":
            break
    assert shadow_active(page) == "chip"
    page.keyboard.press("Enter")
    expect(answer.locator(".chip")).to_have_attribute("aria-expanded", "true")
    expect(answer.locator(".full")).to_contain_text(best.passage.text)

    for _ in range(30):  # full screen on a phone: Tab cycles inside the panel, never to the page behind it
        page.keyboard.press("Tab")
        assert shadow_active(page) is not None

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    assert shadow_active(page) == "launcher"  # focus goes back where it came from

    page.reload()
    page.get_by_role("button", name="開啟文件問答").press("Enter")
    expect(page.locator("qa-chat .question")).to_have_text(f"您的問題:{QUESTION}")
    expect(answer.locator(".answer-text")).to_have_text(best.text)

    page.keyboard.type(UNANSWERABLE)
    page.keyboard.press("Enter")
    reply = page.locator("qa-chat .turn").nth(1).locator(".reply")
    expect(reply.locator(".none")).to_contain_text("文件中似乎沒有這個問題的答案")
    expect(reply.locator(".source .chip")).to_have_count(3)  # the closest passages, to read
    expect(reply.locator("article.answer")).to_have_count(0)
    expect(reply.locator(".unmatched")).to_have_count(0)  # no number in that question
    page.screenshot(path=str(ARTIFACTS / "widget-phone-no-answer.png"))

    page.keyboard.type(UNMATCHED_YEAR)  # the report gives 2022's figure: the reply says which number is missing
    page.keyboard.press("Enter")
    reply = page.locator("qa-chat .turn").nth(2).locator(".reply")
    expect(reply.locator(".unmatched")).to_have_text("(找到的段落都沒有提到 2017。)")
    expect(reply.locator("article.answer")).to_have_count(0)
    page.context.close()


def test_falls_back_to_plain_ask_when_streaming_is_unavailable(browser, expect, live, pipeline):
    best = pipeline.ask(QUESTION).answers[0]
    page = new_page(browser, 1024, 768)
    page.route("**/v1/ask/stream", lambda route: route.fulfill(status=404, json={"error": "not found"}))
    page.goto(f"{live.url}/")
    page.get_by_role("button", name="開啟文件問答").click()
    page.get_by_role("textbox", name="輸入您的問題").fill(QUESTION)
    with page.expect_response(f"{live.url}/v1/ask") as plain:
        page.keyboard.press("Enter")
    assert plain.value.status == 200
    expect(page.locator("qa-chat article.answer .answer-text")).to_have_text(best.text)
    page.context.close()


def test_inline_english_in_a_hostile_page_and_simplified_from_page_lang(browser, expect, live, pipeline):
    best = pipeline.ask(QUESTION).answers[0]
    host_page = f"""<!doctype html><html lang="zh-Hant"><head><meta charset="utf-8">
<style>* {{ color: red !important; font-size: 40px !important; background: yellow !important; }}</style></head>
<body><h1>A partner's page</h1><qa-chat inline lang="en"></qa-chat>
<script src="{live.url}/widget.js" defer></script></body></html>"""
    page = new_page(browser, 1024, 900)
    page.route(f"{live.url}/partner", lambda route: route.fulfill(body=host_page, content_type="text/html"))
    page.goto(f"{live.url}/partner")
    expect(page.get_by_role("heading", name="Ask the document")).to_be_visible()  # in the flow, already open
    expect(page.locator("qa-chat")).to_have_count(1)  # no floating launcher besides the inline one
    expect(page.locator("qa-chat .launcher")).to_have_count(0)
    page.get_by_role("textbox", name="Type your question").fill(QUESTION)
    page.get_by_role("button", name="Send").click()
    answer = page.locator("qa-chat article.answer")
    expect(answer.locator(".chip")).to_have_text(f"¶{best.passage.paragraph} · {best.passage.section}")
    intro = page.locator("qa-chat .intro p").first  # inherits its type from the widget, not from the page
    style = intro.evaluate("el => [getComputedStyle(el).fontSize, getComputedStyle(el).color]")
    assert style == ["15px", "rgb(27, 31, 36)"]
    page.screenshot(path=str(ARTIFACTS / "widget-inline-en.png"))

    simplified = '<!doctype html><html lang="zh-CN"><body><script src="/widget.js" defer></script></body></html>'
    page.route(f"{live.url}/zh-cn", lambda route: route.fulfill(body=simplified, content_type="text/html"))
    page.goto(f"{live.url}/zh-cn")
    expect(page.get_by_role("button", name="打开文档问答")).to_be_visible()
    page.context.close()


@contextmanager
def partner_site() -> Iterator[str]:
    """Another website (a second loopback origin) whose page embeds the widget of the API named by ?api=."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            api = html.escape(parse_qs(urlsplit(self.path).query)["api"][0])
            body = (f'<!doctype html><html lang="zh-Hant"><body><h1>Partner</h1>'
                    f'<script src="{api}/widget.js" data-api="{api}" defer></script></body></html>').encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_only_sites_in_the_cors_list_get_answers_in_the_browser(browser, expect, live, pipeline, settings, serve_app):
    best = pipeline.ask(QUESTION).answers[0]
    with partner_site() as partner:
        welcoming = create_app(settings.model_copy(update={"cors_origins": [partner]}), pipeline)
        with serve_app(welcoming) as api:
            page = new_page(browser, 1024, 768)
            page.goto(f"{partner}/?api={api.url}")  # an API that lists the partner's origin answers it
            page.get_by_role("button", name="開啟文件問答").click()
            page.get_by_role("textbox", name="輸入您的問題").fill(QUESTION)
            page.keyboard.press("Enter")
            expect(page.locator("qa-chat article.answer .answer-text")).to_have_text(best.text)

            page.goto(f"{partner}/?api={live.url}")  # the default list has no room for it: the browser refuses
            page.get_by_role("button", name="開啟文件問答").click()
            expect(page.locator("qa-chat .turn")).to_have_count(0)  # history is kept per API origin
            page.get_by_role("textbox", name="輸入您的問題").fill(QUESTION)
            page.keyboard.press("Enter")
            expect(page.locator("qa-chat .error")).to_have_text("暫時無法取得回答,請稍後再試。")
            expect(page.locator("qa-chat article.answer")).to_have_count(0)
            page.context.close()


@pytest.fixture(scope="module")
def hostile(pipeline, tmp_path_factory, serve_app) -> Iterator:
    """A server over a tiny document whose text, section and box titles are HTML and script."""
    folder = tmp_path_factory.mktemp("hostile")
    corpus = folder / "hostile.jsonl"
    rows = [
        {"id": "x1", "paragraph": 7, "section": "<b onmouseover=alert(2)>A. 援助</b>",
         "text": f"2022年,援助基金籌集了300億美元{PAYLOAD},創下紀錄。"},
        {"id": "x2", "box": "<img src=y onerror=alert(3)>專欄", "section": "B. 和平",
         "text": "維持和平行動共有12個,<script>alert(4)</script>分布在世界各地。"},
        {"id": "x3", "paragraph": 9, "section": "C. 發展", "text": "教育變革峰會獲得133個國家的承諾。"},
    ]
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    settings = pipeline.settings.model_copy(update={"corpus": corpus, "index_dir": folder / "index"})
    p = Pipeline(settings)
    p.embedder, p.reader = pipeline.embedder, pipeline.reader  # the same loaded models; only the document differs
    build_index(settings, p.embedder)
    with serve_app(create_app(settings, p.load())) as server:
        yield server


def test_markup_in_passages_renders_as_text(browser, expect, hostile):
    dialogs: list[str] = []
    page = new_page(browser, 1024, 900, dialogs)
    page.goto(f"{hostile.url}/")
    page.get_by_role("button", name="開啟文件問答").click()
    page.get_by_role("textbox", name="輸入您的問題").fill(f"{PAYLOAD}援助基金籌集了多少美元?")
    page.keyboard.press("Enter")
    reply = page.locator("qa-chat .reply").first
    expect(reply.locator(".feedback")).to_be_visible()  # the answer is in
    for summary in reply.locator("summary").all():
        summary.click()
    for chip in reply.locator(".chip").all():
        chip.click()

    text = reply.inner_text()
    assert PAYLOAD in text  # shown, literally, in the context and the expanded paragraph
    assert "<b onmouseover=alert(2)>A. 援助</b>" in text  # a section title is text too
    expect(page.locator("qa-chat .question")).to_contain_text(PAYLOAD)
    assert page.evaluate(SHADOW_TAGS.format("img, script, b")) == 0
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    page.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert dialogs == []
    page.screenshot(path=str(ARTIFACTS / "widget-markup-as-text.png"))
    page.context.close()


def test_a_follow_up_sends_the_conversation_and_shows_what_was_understood(browser, expect, live):
    page = new_page(browser, 1024, 900)
    page.goto(f"{live.url}/")
    page.get_by_role("button", name="開啟文件問答").click()
    box = page.get_by_role("textbox", name="輸入您的問題")
    box.fill("巴基斯坦的暴雨洪灾波及了多少人?")
    box.press("Enter")
    expect(page.locator("qa-chat .turn").nth(0).locator(".answer-text")).to_have_text("3300萬人")
    with page.expect_request(f"{live.url}/v1/ask/stream") as sent:
        box.fill("那流離失所的呢?")
        box.press("Enter")
    history = sent.value.post_data_json["history"]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[1]["content"].startswith("3300萬人 (第121段")
    reply = page.locator("qa-chat .turn").nth(1)
    expect(reply.locator(".answer-text")).to_have_text("800萬人")
    expect(reply.locator(".understood")).to_contain_text("巴基斯坦")  # the question as the conversation resolved it
    page.get_by_role("button", name="清除對話記錄").click()
    with page.expect_request(f"{live.url}/v1/ask/stream") as sent:
        box.fill("How many people did the floods in Pakistan affect?")
        box.press("Enter")
    assert sent.value.post_data_json["history"] == [] and "language" not in sent.value.post_data_json
    english = page.locator("qa-chat .turn").nth(0)  # an English question gets English labels in a Chinese page
    expect(english.locator(".confidence")).to_have_text(re.compile(r"(High|Medium|Low) confidence"))
    expect(english.locator(".chip").first).to_have_text(re.compile(r"^¶\d+"))
    expect(english).to_have_attribute("lang", "en")
    page.context.close()
