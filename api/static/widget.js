/*
 * qa-chat: a chat widget that answers questions about a document by quoting it, with the
 * paragraph each answer comes from. Plain JavaScript, no build step, no dependencies.
 *
 * Floating launcher:  <script src="https://HOST/widget.js" data-api="https://HOST" defer></script>
 * In the page flow:   <qa-chat inline api="https://HOST"></qa-chat> plus the same script tag
 *
 * Options (element attribute / script data- attribute):
 *   api / data-api                  server origin; default: where widget.js was loaded from
 *   lang / data-lang                zh-Hant, zh-Hans or en for everything; without it the panel starts in the
 *                                   page's <html lang> (default zh-Hant) and each reply speaks its question's language
 *   heading / data-heading          panel title
 *   suggestions / data-suggestions  example questions, separated by "|"
 *
 * Safety: every string from the server is put into the page with textContent or text nodes,
 * never parsed as HTML. The script holds no secrets; the server decides which origins may call it.
 */
(() => {
  "use strict";
  if (window.customElements.get("qa-chat")) return; // loaded twice: the first copy serves

  const script = document.currentScript;
  const scriptData = (script && script.dataset) || {};
  const scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  const HISTORY_LIMIT = 30; // turns kept per server in localStorage
  const PREVIEW_CHARS = 90;
  const HISTORY_TURNS = 5; // earlier questions (with their answers) sent with a new one

  const STRINGS = {
    "zh-Hant": {
      heading: "文件問答",
      subtitle: "每個回答都引用原文,並標明段落",
      open: "開啟文件問答",
      close: "關閉",
      clear: "清除對話記錄",
      conversation: "對話記錄",
      greeting: "您好!請就這份文件提問。我會引用原文回答,並告訴您出自哪一段。",
      suggestions: "試試這些問題:",
      inputLabel: "輸入您的問題",
      placeholder: "就這份文件提問…",
      send: "發送",
      you: "您的問題:",
      answer: "回答",
      searching: "正在檢索相關段落…",
      reading: (n) => `找到 ${n} 個相關段落,正在閱讀…`,
      expand: "顯示完整段落",
      openDocument: "開啟原文件",
      understood: (q) => `(理解為:${q})`,
      confidence: { high: "信心高", medium: "信心中等", low: "信心低" },
      confidenceTitle: (pct) => `答案的信心:${pct}%`,
      others: (n) => `其他可能的答案(${n})`,
      feedbackGroup: "這個回答有幫助嗎?",
      helpful: "有幫助",
      notHelpful: "沒有幫助",
      thanks: "感謝您的回饋",
      feedbackFailed: "回饋未能送出,請稍後再試",
      error: "暫時無法取得回答,請稍後再試。",
      announceAnswer: (text, cite) => `回答:${text}。出處:${cite}。`,
      announceNone: "文件中找不到答案,已列出最接近的段落。",
    },
    "zh-Hans": {
      heading: "文档问答",
      subtitle: "每个回答都引用原文,并标明段落",
      open: "打开文档问答",
      close: "关闭",
      clear: "清除对话记录",
      conversation: "对话记录",
      greeting: "您好!请就这份文档提问。我会引用原文回答,并告诉您出自哪一段。",
      suggestions: "试试这些问题:",
      inputLabel: "输入您的问题",
      placeholder: "就这份文档提问…",
      send: "发送",
      you: "您的问题:",
      answer: "回答",
      searching: "正在检索相关段落…",
      reading: (n) => `找到 ${n} 个相关段落,正在阅读…`,
      expand: "显示完整段落",
      openDocument: "打开原文件",
      understood: (q) => `(理解为:${q})`,
      confidence: { high: "信心高", medium: "信心中等", low: "信心低" },
      confidenceTitle: (pct) => `答案的信心:${pct}%`,
      others: (n) => `其他可能的答案(${n})`,
      feedbackGroup: "这个回答有帮助吗?",
      helpful: "有帮助",
      notHelpful: "没有帮助",
      thanks: "感谢您的反馈",
      feedbackFailed: "反馈未能发送,请稍后再试",
      error: "暂时无法获得回答,请稍后再试。",
      announceAnswer: (text, cite) => `回答:${text}。出处:${cite}。`,
      announceNone: "文档中找不到答案,已列出最接近的段落。",
    },
    en: {
      heading: "Ask the document",
      subtitle: "Every answer quotes its source paragraph",
      open: "Open document Q&A",
      close: "Close",
      clear: "Clear conversation",
      conversation: "Conversation",
      greeting: "Hello! Ask a question about this document. I answer by quoting it and tell you which paragraph the answer comes from.",
      suggestions: "Try asking:",
      inputLabel: "Type your question",
      placeholder: "Ask about this document…",
      send: "Send",
      you: "Your question:",
      answer: "Answer",
      searching: "Searching the document…",
      reading: (n) => `Found ${n} relevant passages; reading…`,
      expand: "Show the full paragraph",
      openDocument: "Open the document",
      understood: (q) => `(understood as: ${q})`,
      confidence: { high: "High confidence", medium: "Medium confidence", low: "Low confidence" },
      confidenceTitle: (pct) => `Answer confidence: ${pct}%`,
      others: (n) => `Other possible answers (${n})`,
      feedbackGroup: "Was this answer helpful?",
      helpful: "Helpful",
      notHelpful: "Not helpful",
      thanks: "Thank you for the feedback",
      feedbackFailed: "Feedback could not be sent; please try again later",
      error: "Could not get an answer right now; please try again later.",
      announceAnswer: (text, cite) => `Answer: ${text}. Source: ${cite}.`,
      announceNone: "No answer found in the document; the closest passages are listed.",
    },
  };

  /** Maps a BCP 47 tag to one of the three UI languages, or null when none fits. */
  function uiLang(tag) {
    const value = (tag || "").toLowerCase();
    if (!value) return null;
    if (value.startsWith("en")) return "en";
    if (/^zh-(hans|cn|sg|my)/.test(value)) return "zh-Hans";
    if (value.startsWith("zh")) return "zh-Hant";
    return null;
  }

  const CSS = `
:host { all: initial; display: block; --accent: var(--qa-accent, #0b6bcb); --muted: #59616b; --line: #d9dee4; }
/* set here, not on :host, which a page rule like "* { font-size: 40px !important }" would override */
.launcher, .panel { font: 400 15px/1.55 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK TC", "Noto Sans TC",
  "PingFang TC", "Microsoft JhengHei", sans-serif; color: #1b1f24; letter-spacing: normal; word-spacing: normal;
  text-align: start; text-indent: 0; text-transform: none; white-space: normal; visibility: visible; }
:host(:not([inline])) { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; }
.panel:lang(zh-Hans) { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Noto Sans SC",
  "PingFang SC", "Microsoft YaHei", sans-serif; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
button { font: inherit; color: inherit; cursor: pointer; }
:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
svg { width: 20px; height: 20px; flex: none; }
.launcher { width: 60px; height: 60px; border-radius: 50%; border: none; background: var(--accent); color: #fff;
  display: grid; place-items: center; box-shadow: 0 6px 20px rgba(0,0,0,.25); }
.launcher svg { width: 28px; height: 28px; }
.panel { display: flex; flex-direction: column; background: #fff; overflow: hidden; }
:host(:not([inline])) .panel { position: fixed; right: 20px; bottom: 92px; width: 400px;
  height: min(660px, calc(100vh - 120px)); border-radius: 16px; box-shadow: 0 12px 40px rgba(0,0,0,.25); }
:host([inline]) .panel { height: var(--qa-height, 560px); border: 1px solid var(--line); border-radius: 12px; }
header { display: flex; align-items: flex-start; gap: 8px; padding: 14px 14px 12px 18px; background: var(--accent);
  color: #fff; }
header .titles { flex: 1; min-width: 0; }
h2 { margin: 0; font-size: 17px; font-weight: 650; }
.subtitle { margin: 2px 0 0; font-size: 13px; opacity: .92; }
.icon-button { display: grid; place-items: center; width: 36px; height: 36px; border: none; border-radius: 8px;
  background: transparent; }
header .icon-button:hover { background: rgba(255,255,255,.16); }
header :focus-visible { outline-color: #fff; }
.log { position: relative; flex: 1; overflow-y: auto; padding: 14px 14px 6px; background: #f6f7f9; overscroll-behavior: contain; }
.intro p { margin: 0 0 8px; }
.suggestions { display: flex; flex-wrap: wrap; gap: 6px; margin: 4px 0 10px; padding: 0; list-style: none; }
.suggestion { border: 1px solid var(--accent); color: var(--accent); background: #fff; border-radius: 999px;
  padding: 4px 12px; font-size: 14px; text-align: start; }
.turn { margin: 10px 0 16px; }
.question { margin: 0 0 8px auto; width: fit-content; max-width: 85%; padding: 8px 12px; border-radius: 14px 14px 4px 14px;
  background: var(--accent); color: #fff; overflow-wrap: anywhere; }
.reply { max-width: 100%; padding: 12px; border-radius: 4px 14px 14px 14px; background: #fff;
  border: 1px solid var(--line); overflow-wrap: anywhere; }
.status { margin: 0; color: var(--muted); }
.status::after { content: ""; display: inline-block; width: 1.2em; text-align: start; animation: dots 1.2s steps(4) infinite; }
@keyframes dots { 0% { content: ""; } 25% { content: "."; } 50% { content: ".."; } 75% { content: "..."; } }
.reading { display: flex; flex-wrap: wrap; gap: 4px; margin: 6px 0 0; padding: 0; list-style: none; font-size: 13px; color: var(--muted); }
.reading li { padding: 1px 8px; border-radius: 999px; background: #eef1f4; }
.answer-text { margin: 0 0 6px; font-size: 19px; font-weight: 650; }
blockquote { margin: 0 0 8px; padding: 6px 10px; border-inline-start: 3px solid var(--accent); background: #f3f6fa;
  color: #2a3139; font-size: 14px; }
mark { background: #ffe58a; color: inherit; padding: 0 1px; border-radius: 2px; }
.meta { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; }
.chip { display: inline-flex; align-items: center; gap: 4px; max-width: 100%; padding: 3px 10px; border-radius: 999px;
  border: 1px solid #b9c9dc; background: #eef4fb; color: #0a4f96; font-size: 13px; text-align: start; }
.chip::after { content: "▾"; font-size: 11px; }
.chip[aria-expanded="true"]::after { content: "▴"; }
.confidence { display: inline-flex; align-items: center; gap: 4px; font-size: 12px; color: var(--muted); }
.confidence .dot { width: 6px; height: 6px; border-radius: 50%; background: #c9ced4; }
.confidence[data-level="high"] .dot:nth-child(-n+3), .confidence[data-level="medium"] .dot:nth-child(-n+2),
.confidence[data-level="low"] .dot:nth-child(1) { background: var(--muted); }
.full { margin: 8px 0 0; padding: 8px 10px; border-radius: 8px; background: #f6f7f9; font-size: 14px; }
.full .where { display: block; margin-bottom: 4px; font-size: 12px; color: var(--muted); }
.understood { margin: 6px 0 0; font-size: 12px; color: var(--muted); }
.full .open-document { display: inline-block; margin-top: 6px; font-size: 12px; color: var(--accent); }
.source { margin: 8px 0 0; }
.preview { margin: 4px 0 0; font-size: 13px; color: var(--muted); }
details { margin-top: 10px; font-size: 14px; }
summary { cursor: pointer; color: var(--muted); }
details ul { margin: 6px 0 0; padding-inline-start: 18px; }
details li { margin-bottom: 6px; }
.none { margin: 0 0 4px; }
.error { margin: 0; color: #a61b1b; }
.feedback { display: flex; align-items: center; gap: 4px; margin-top: 10px; color: var(--muted); font-size: 13px; }
.feedback .icon-button { width: 32px; height: 32px; color: var(--muted); }
.feedback .icon-button:hover { background: #eef1f4; }
.feedback .icon-button[aria-pressed="true"] { color: var(--accent); background: #e4eefa; }
.feedback svg { width: 18px; height: 18px; }
form { display: flex; gap: 8px; padding: 10px 12px 12px; border-top: 1px solid var(--line); background: #fff; }
input { flex: 1; min-width: 0; font: inherit; font-size: 16px; padding: 9px 12px; border: 1px solid #aab3bd;
  border-radius: 10px; color: inherit; background: #fff; }
input:focus-visible { outline-offset: 0; }
.send { width: 44px; height: 44px; border: none; border-radius: 10px; background: var(--accent); color: #fff;
  display: grid; place-items: center; }
.send:disabled { opacity: .55; cursor: progress; }
@media (max-width: 480px) {
  :host(:not([inline])) { right: 16px; bottom: 16px; }
  :host(:not([inline])) .panel { inset: 0; width: auto; height: 100%; border-radius: 0; }
  :host(:not([inline])[data-open]) .launcher { display: none; }
}
@media (prefers-reduced-motion: reduce) { .status::after { animation: none; content: "…"; } }
`;

  let sharedSheet = null; // one parsed copy of CSS for every <qa-chat> on the page

  const ICONS = {
    chat: ["M4 5h16a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H10l-5 4v-4H4a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1z", "M8 10h8M8 13h5"],
    close: ["M6 6l12 12M18 6 6 18"],
    send: ["M4 12 20 4l-6 16-3-7-7-1z"],
    clear: ["M4 7h16M10 7V4h4v3M6 7l1 13h10l1-13M10 11v6M14 11v6"],
    up: ["M7 11v9H4v-9h3zM7 11l4-7c1.5 0 2.5 1 2.2 2.6L12.6 10H19a1.5 1.5 0 0 1 1.5 1.8l-1.4 6.8A2 2 0 0 1 17.2 20H7"],
  };

  /** Builds an element; string children become text nodes, so nothing is parsed as HTML. */
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  function icon(name, flip) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    for (const d of ICONS[name]) {
      const path = document.createElementNS(ns, "path");
      path.setAttribute("d", d);
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", "currentColor");
      path.setAttribute("stroke-width", "2");
      path.setAttribute("stroke-linecap", "round");
      path.setAttribute("stroke-linejoin", "round");
      svg.append(path);
    }
    if (flip) svg.style.transform = "rotate(180deg)";
    return svg;
  }

  /** The text with [start, end) wrapped in <mark>, as nodes; the span is checked against `expected`. */
  function highlighted(text, start, end, expected) {
    let s = start;
    let e = end;
    if (!(s >= 0 && e <= text.length && s < e && text.slice(s, e) === expected)) {
      s = expected ? text.indexOf(expected) : -1;
      e = s + (expected || "").length;
    }
    if (s < 0) return [text];
    return [text.slice(0, s), h("mark", { text: text.slice(s, e) }), text.slice(e)];
  }

  // Levels of the answer confidence, drawn on dev2 (mean F1 of shown answers ≥ 0.9: 0.84, 0.8–0.9: 0.77,
  // below: 0.52) and holding on held-out DRCD (0.84 / 0.70 / 0.22); redraw them when the confidence is refit.
  function confidenceLevel(score) {
    if (score >= 0.9) return "high";
    if (score >= 0.8) return "medium";
    return "low";
  }

  class ApiError extends Error {
    constructor(message, status, fallback) {
      super(message);
      this.status = status;
      this.fallback = fallback; // true: the plain /v1/ask may still work
    }
  }

  async function errorFrom(response) {
    let message = "";
    try {
      const body = await response.json();
      if (body && typeof body.error === "string") message = body.error;
    } catch (_) {
      // not JSON: the generic message will do
    }
    return new ApiError(message, response.status, response.status === 404 || response.status === 405);
  }

  /** Parses a server-sent event stream into [event, data] pairs. */
  async function* sseEvents(body) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer = (buffer + decoder.decode(value, { stream: true })).replace(/\r\n/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) yield [event, JSON.parse(data.join("\n"))];
      }
    }
  }

  function postJson(url, payload, signal, accept) {
    const headers = { "Content-Type": "application/json" };
    if (accept) headers.Accept = accept;
    return fetch(url, { method: "POST", headers, body: JSON.stringify(payload), signal, credentials: "omit" });
  }

  /** Streams an answer: `onPassages` sees the retrieved passages before the reader has finished. */
  async function askStreaming(api, body, signal, onPassages) {
    let response;
    try {
      response = await postJson(`${api}/v1/ask/stream`, body, signal, "text/event-stream");
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new ApiError("", 0, true);
    }
    if (!response.ok) throw await errorFrom(response);
    if (!response.body) throw new ApiError("", 0, true);
    const result = { passages: [], answers: [], no_answer: true };
    for await (const [event, data] of sseEvents(response.body)) {
      if (event === "passages") {
        result.passages = data.passages;
        result.resolved_question = data.resolved_question || null;
        onPassages(data.passages);
      } else if (event === "answer") {
        result.answers = data.answers;
        result.no_answer = data.no_answer;
        result.message = data.message || null;
        result.language = data.language || null;
        result.unmatched_numbers = data.unmatched_numbers || [];
      } else if (event === "error") {
        throw new ApiError("", 500, false);
      } else if (event === "done") {
        return result;
      }
    }
    throw new ApiError("", 0, true); // the stream broke off before `done`
  }

  async function askPlain(api, body, signal) {
    const response = await postJson(`${api}/v1/ask`, body, signal);
    if (!response.ok) throw await errorFrom(response);
    const data = await response.json();
    return { passages: data.passages, answers: data.answers, no_answer: data.no_answer, message: data.message || null,
      unmatched_numbers: data.unmatched_numbers || [], resolved_question: data.resolved_question || null,
      language: data.language || null };
  }

  class QaChat extends HTMLElement {
    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      this.turns = [];
      this.busy = false;
      this.controller = null;
      this.uid = 0;
    }

    connectedCallback() {
      if (this.panel) return; // moved in the DOM: keep what is there
      this.inline = this.hasAttribute("inline");
      // a language the integrator set holds for everything; else replies follow their question's language
      this.fixedLanguage = uiLang(this.getAttribute("lang"));
      this.language = this.fixedLanguage || uiLang(document.documentElement.lang) || "zh-Hant";
      this.t = STRINGS[this.language];
      this.api = (this.getAttribute("api") || scriptData.api || scriptOrigin).replace(/\/+$/, "");
      this.storageKey = `qa-chat:v1:${new URL(this.api, location.href).origin}`;
      this.build();
      this.restore();
    }

    disconnectedCallback() {
      if (this.controller) this.controller.abort();
    }

    nextId(prefix) {
      this.uid += 1;
      return `${prefix}-${this.uid}`;
    }

    build() {
      const t = this.t;
      const suggestions = (this.getAttribute("suggestions") || scriptData.suggestions || "")
        .split("|").map((s) => s.trim()).filter(Boolean);

      this.live = h("div", { class: "sr-only", role: "status", "aria-live": "polite" });
      this.log = h("div", { class: "log", role: "region", tabindex: "0", "aria-label": t.conversation },
        h("div", { class: "intro" },
          h("p", { text: t.greeting }),
          suggestions.length ? h("p", { class: "sr-only", id: "suggestions-label", text: t.suggestions }) : null,
          suggestions.length ? h("ul", { class: "suggestions", "aria-labelledby": "suggestions-label" },
            suggestions.map((q) => h("li", {}, h("button", { type: "button", class: "suggestion", text: q,
              onclick: () => this.ask(q) })))) : null),
        this.turnList = h("div", { class: "turns" }));
      this.input = h("input", { id: "question", type: "text", autocomplete: "off", enterkeyhint: "send",
        maxlength: "1000", placeholder: t.placeholder });
      this.sendButton = h("button", { type: "submit", class: "send", "aria-label": t.send, title: t.send }, icon("send"));
      const form = h("form", { onsubmit: (ev) => { ev.preventDefault(); this.ask(this.input.value); } },
        h("label", { class: "sr-only", for: "question", text: t.inputLabel }), this.input, this.sendButton);

      const heading = this.getAttribute("heading") || scriptData.heading || t.heading;
      const header = h("header", {},
        h("div", { class: "titles" }, h("h2", { id: "panel-title", text: heading }), h("p", { class: "subtitle", text: t.subtitle })),
        h("button", { type: "button", class: "icon-button", "aria-label": t.clear, title: t.clear,
          onclick: () => this.clearHistory() }, icon("clear")),
        this.inline ? null : h("button", { type: "button", class: "icon-button", "aria-label": t.close, title: t.close,
          onclick: () => this.close() }, icon("close")));

      this.panel = h("section", { class: "panel", id: "panel", lang: this.language, "aria-labelledby": "panel-title",
        role: this.inline ? "region" : "dialog", "aria-modal": this.inline ? null : "false", hidden: !this.inline },
        header, this.log, form, this.live);

      this.adoptStyles();
      if (!this.inline) {
        this.launcher = h("button", { type: "button", class: "launcher", "aria-label": t.open, title: t.open,
          "aria-expanded": "false", "aria-controls": "panel", onclick: () => (this.panel.hidden ? this.open() : this.close()) },
          icon("chat"));
        this.shadowRoot.append(this.launcher);
        this.shadowRoot.addEventListener("keydown", (ev) => {
          if (this.panel.hidden) return;
          if (ev.key === "Escape") {
            ev.preventDefault();
            this.close();
          } else if (ev.key === "Tab" && window.matchMedia("(max-width: 480px)").matches) {
            this.keepFocusInside(ev); // full screen on a phone: the page behind is covered
          }
        });
      }
      this.shadowRoot.append(this.panel);
    }

    /** A constructed style sheet where the browser has them: a page's CSP does not block those. */
    adoptStyles() {
      if ("adoptedStyleSheets" in ShadowRoot.prototype && "replaceSync" in CSSStyleSheet.prototype) {
        if (!sharedSheet) {
          sharedSheet = new CSSStyleSheet();
          sharedSheet.replaceSync(CSS);
        }
        this.shadowRoot.adoptedStyleSheets = [sharedSheet];
      } else {
        this.shadowRoot.append(h("style", { text: CSS }));
      }
    }

    open() {
      this.panel.hidden = false;
      this.setAttribute("data-open", "");
      this.launcher.setAttribute("aria-expanded", "true");
      this.scrollToEnd();
      this.input.focus();
    }

    close() {
      this.panel.hidden = true;
      this.removeAttribute("data-open");
      this.launcher.setAttribute("aria-expanded", "false");
      this.launcher.focus();
    }

    keepFocusInside(ev) {
      const visible = (el) => (el.checkVisibility ? el.checkVisibility() : el.getClientRects().length > 0);
      const stops = [...this.panel.querySelectorAll("button:not([disabled]), input, summary, [tabindex='0']")]
        .filter(visible);
      const active = this.shadowRoot.activeElement;
      const edge = ev.shiftKey ? stops[0] : stops[stops.length - 1];
      if (stops.length && (active === edge || !this.panel.contains(active))) {
        ev.preventDefault();
        (ev.shiftKey ? stops[stops.length - 1] : stops[0]).focus();
      }
    }

    scrollToEnd() {
      this.log.scrollTop = this.log.scrollHeight;
    }

    // ---- history -------------------------------------------------------------------------

    restore() {
      let saved = [];
      try {
        saved = JSON.parse(localStorage.getItem(this.storageKey) || "[]");
      } catch (_) {
        saved = []; // storage blocked or corrupt: start afresh
      }
      if (!Array.isArray(saved)) saved = [];
      for (const turn of saved) {
        if (!turn || typeof turn.question !== "string") continue;
        this.turns.push(turn);
        const view = this.turnView(turn);
        this.showResult(turn, view, false);
      }
    }

    save() {
      try {
        localStorage.setItem(this.storageKey, JSON.stringify(this.turns.slice(-HISTORY_LIMIT)));
      } catch (_) {
        // storage full or blocked: the conversation still works, it just won't survive a reload
      }
    }

    clearHistory() {
      if (this.controller) this.controller.abort();
      this.turns = [];
      this.turnList.replaceChildren();
      try {
        localStorage.removeItem(this.storageKey);
      } catch (_) {
        // nothing stored
      }
      this.input.focus();
    }

    // ---- asking ----------------------------------------------------------------------------

    async ask(raw) {
      const question = (raw || "").trim();
      if (!question || this.busy) return;
      this.busy = true;
      this.sendButton.disabled = true;
      this.input.value = "";
      this.controller = new AbortController();
      const { signal } = this.controller;
      const turn = { question, passages: [], answers: [], no_answer: false, feedback: null };
      const view = this.turnView(turn);
      const status = h("p", { class: "status", text: this.t.searching });
      view.reply.replaceChildren(status);
      view.reply.setAttribute("aria-busy", "true");
      this.scrollToEnd();
      const body = { question, history: this.history() };
      if (this.fixedLanguage) body.language = this.fixedLanguage;
      try {
        let result;
        try {
          result = await askStreaming(this.api, body, signal, (passages) => {
            status.textContent = this.t.reading(passages.length);
            view.reply.append(h("ul", { class: "reading", "aria-hidden": "true" },
              passages.slice(0, 5).map((p) => h("li", { text: this.citation(p) }))));
            this.scrollToEnd();
          });
        } catch (err) {
          if (!err.fallback) throw err;
          result = await askPlain(this.api, body, signal);
        }
        Object.assign(turn, result);
        this.turns.push(turn);
        this.save();
        this.showResult(turn, view, true);
        // a long reply scrolls its own question out of sight: start reading where the turn starts
        this.log.scrollTop = Math.min(this.log.scrollHeight, view.root.offsetTop - 8);
      } catch (err) {
        if (err.name === "AbortError") {
          view.root.remove();
        } else {
          const message = err.status >= 400 && err.status < 500 && err.message ? err.message : this.t.error;
          view.reply.replaceChildren(h("p", { class: "error", role: "alert", text: message }));
        }
      } finally {
        view.reply.removeAttribute("aria-busy");
        this.busy = false;
        this.sendButton.disabled = false;
        this.controller = null;
      }
    }

    /** The conversation so far, as the server resolves a follow-up against: each question and its best answer with
     * the citation (`3300萬人 (第121段 · …)`), or the no-answer sentence. */
    history() {
      const out = [];
      for (const turn of this.turns.slice(-HISTORY_TURNS)) {
        const best = turn.no_answer ? null : (turn.answers || [])[0];
        out.push({ role: "user", content: turn.question });
        const reply = best ? `${best.text} (${this.citation(best)})` : (turn.message || "").split("\n")[0];
        if (reply) out.push({ role: "assistant", content: reply });
      }
      return out;
    }

    // ---- rendering -------------------------------------------------------------------------

    /** Where an item is: the server's label (qa/present.py), in the language the widget asked for. */
    citation(item) {
      return item.citation || String(item.id);
    }

    turnView(turn) {
      const reply = h("div", { class: "reply" });
      const root = h("div", { class: "turn" },
        h("p", { class: "question" }, h("span", { class: "sr-only", text: this.t.you }), turn.question), reply);
      this.turnList.append(root);
      return { root, reply };
    }

    /** A citation chip that expands to the full passage, with the answer span marked when given. */
    source(item, passage, answer, t) {
      const panelId = this.nextId("passage");
      const full = h("div", { class: "full", id: panelId, hidden: true },
        h("span", { class: "where", text: this.citation(item) }),
        passage ? (answer ? highlighted(passage.text, answer.start, answer.end, answer.text) : passage.text) : null,
        this.documentLink(item, t));
      const chip = h("button", { type: "button", class: "chip", "aria-expanded": "false", "aria-controls": panelId,
        title: t.expand, text: this.citation(item),
        onclick: () => {
          const expanded = chip.getAttribute("aria-expanded") === "true";
          chip.setAttribute("aria-expanded", String(!expanded));
          full.hidden = expanded;
        } });
      return { chip, full };
    }

    /** A link to the cited document's original, at the answer's page for a PDF (`#page=N`). */
    documentLink(item, t) {
      if (!item.document) return null;
      const page = item.page ? `#page=${item.page}` : "";
      return h("a", { class: "open-document", href: `${this.api}/v1/documents/${encodeURIComponent(item.document.id)}`
        + `/file${page}`, target: "_blank", rel: "noopener", text: t.openDocument });
    }

    confidence(score, t) {
      const level = confidenceLevel(score);
      const pct = Math.round(score * 100);
      return h("span", { class: "confidence", "data-level": level, title: t.confidenceTitle(pct) },
        h("span", { class: "dot", "aria-hidden": "true" }), h("span", { class: "dot", "aria-hidden": "true" }),
        h("span", { class: "dot", "aria-hidden": "true" }), t.confidence[level]);
    }

    showResult(turn, view, announce) {
      const t = STRINGS[this.fixedLanguage || turn.language] || this.t; // the reply speaks its question's language
      view.root.lang = this.fixedLanguage || turn.language || this.language;
      const byId = new Map((turn.passages || []).map((p) => [p.id, p]));
      const nodes = [];
      if (turn.no_answer || !turn.answers || !turn.answers.length) {
        // the server's sentence (qa/present.py); its second line names the numbers no passage found mentions
        const [sentence, ...notes] = (turn.message || "").split("\n");
        nodes.push(h("p", { class: "none", text: sentence }));
        for (const note of notes) nodes.push(h("p", { class: "none unmatched", text: note }));
        for (const passage of (turn.passages || []).slice(0, 3)) {
          const { chip, full } = this.source(passage, passage, null, t);
          const preview = passage.text.length > PREVIEW_CHARS ? `${passage.text.slice(0, PREVIEW_CHARS)}…` : passage.text;
          nodes.push(h("div", { class: "source" }, chip, h("p", { class: "preview", text: preview }), full));
        }
        if (announce) this.live.textContent = t.announceNone;
      } else {
        const [best, ...others] = turn.answers;
        const passage = byId.get(best.id);
        const { chip, full } = this.source(best, passage, best, t);
        const ctxStart = best.context_start >= 0 ? best.context_start : 0;
        const before = ctxStart > 0 ? "…" : "";
        const after = passage && ctxStart + best.context.length < passage.text.length ? "…" : "";
        nodes.push(h("article", { class: "answer", "aria-label": t.answer },
          h("p", { class: "answer-text", text: best.text }),
          h("blockquote", {}, before, highlighted(best.context, best.start - ctxStart, best.end - ctxStart, best.text), after),
          h("div", { class: "meta" }, chip, this.confidence(best.score, t)),
          full));
        if (others.length) {
          nodes.push(h("details", { class: "others" }, h("summary", { text: t.others(others.length) }),
            h("ul", {}, others.map((a) => {
              const other = this.source(a, byId.get(a.id), a, t);
              return h("li", {}, h("span", { text: `${a.text} ` }), other.chip, other.full);
            }))));
        }
        if (announce) this.live.textContent = t.announceAnswer(best.text, this.citation(best));
      }
      if (turn.resolved_question && turn.resolved_question !== turn.question) {
        nodes.push(h("p", { class: "understood", text: t.understood(turn.resolved_question) }));
      }
      nodes.push(this.feedback(turn, t));
      view.reply.replaceChildren(...nodes);
    }

    feedback(turn, t) {
      const note = h("span", { class: "feedback-note", role: "status" });
      const buttons = [];
      const send = async (helpful, button) => {
        buttons.forEach((b) => { b.disabled = true; });
        const best = turn.no_answer ? null : (turn.answers || [])[0] || null;
        const payload = {
          question: turn.question,
          answer: best ? best.text : null,
          passage_id: best ? best.id : null,
          paragraph: best ? best.paragraph : null,
          helpful,
          correct_answer: null,
          correct_paragraph: null,
        };
        let ok = false;
        try {
          ok = (await postJson(`${this.api}/v1/feedback`, payload)).ok;
        } catch (_) {
          ok = false;
        }
        if (ok) {
          button.setAttribute("aria-pressed", "true");
          turn.feedback = helpful ? "up" : "down";
          this.save();
          note.textContent = t.thanks;
        } else {
          buttons.forEach((b) => { b.disabled = false; });
          note.textContent = t.feedbackFailed;
        }
      };
      for (const [helpful, label, flip] of [[true, t.helpful, false], [false, t.notHelpful, true]]) {
        const pressed = turn.feedback === (helpful ? "up" : "down");
        const button = h("button", { type: "button", class: "icon-button", "aria-label": label, title: label,
          "aria-pressed": String(pressed), disabled: Boolean(turn.feedback),
          onclick: () => send(helpful, button) }, icon("up", flip));
        buttons.push(button);
      }
      if (turn.feedback) note.textContent = t.thanks;
      return h("div", { class: "feedback", role: "group", "aria-label": t.feedbackGroup }, ...buttons, note);
    }
  }

  window.customElements.define("qa-chat", QaChat);

  /** The script tag alone gives a floating launcher, unless the page placed its own <qa-chat>. */
  function mount() {
    if (document.querySelector("qa-chat")) return;
    const element = document.createElement("qa-chat");
    for (const [key, attr] of [["api", "api"], ["lang", "lang"], ["heading", "heading"], ["suggestions", "suggestions"]]) {
      if (scriptData[key]) element.setAttribute(attr, scriptData[key]);
    }
    document.body.append(element);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
  else mount();
})();
