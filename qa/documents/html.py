"""Web pages: the main content only. Navigation, headers and footers of the page, sidebars, cookie banners,
forms, scripts and styles are dropped (by element, ARIA role, and class or id names such as `cookie`, `menu`,
`sidebar`), and so is a list or box that is mostly links (a menu by another name). Inside `<main>` or the largest
`<article>` when the page has one, else the whole body, headings become sections and paragraphs, list items,
quotes and table rows become passages, with whitespace as a browser shows it."""

from __future__ import annotations

import re

from qa.documents.blocks import Block, table_blocks

_SKIP_TAGS = {"script", "style", "noscript", "template", "nav", "aside", "form", "button", "iframe", "svg",
              "canvas", "select", "input", "textarea", "object", "embed", "dialog", "menu"}
_PAGE_PARTS = {"header", "footer"}  # dropped unless inside the article or main element
_SKIP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar", "dialog",
               "alertdialog", "toolbar"}
_BOILERPLATE = re.compile(
    r"(?:^|[\s_-])(?:cookie|consent|gdpr|banner|nav|navbar|menu|breadcrumbs?|sidebar|side-bar|footer|header|"
    r"share|sharing|social|related|recommend|advert|ads?|sponsor|promo|newsletter|subscribe|comments?|popup|"
    r"modal|toolbar|pagination|pager|skip|masthead|topbar|meta|byline|author|tags?|dateline)(?:$|[\s_-])", re.I)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_LEAVES = {"p", "li", "blockquote", "pre", "dd", "dt", "figcaption", "caption", "summary", "address"}
_BLOCK_TAGS = _LEAVES | set(_HEADINGS) | {"div", "section", "article", "main", "ul", "ol", "dl", "table", "figure",
                                          "details", "header", "footer", "body", "center", "tbody", "thead", "tr"}
LINK_DENSITY = 0.6  # a container whose text is mostly link text is a menu
_WORD = re.compile(r"[^\W_]")
BR = "\u2028"  # <br> while whitespace is collapsed
_CJK_CHAR = "\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_BREAK = re.compile(rf"(?<=[{_CJK_CHAR}])[ \t\r\f\v]*\n\s*(?=[{_CJK_CHAR}])")


def read_html(text: str) -> tuple[str | None, list[Block]]:
    """(the page's title, its main content as blocks)."""
    import lxml.html

    root = lxml.html.document_fromstring(text)
    title = _clean(root.findtext(".//title") or "") or None
    body = root.find("body") if root.find("body") is not None else root
    candidates = [e for e in body.iter("main", "article") if not _skipped(e)] + [
        e for e in body.iter() if isinstance(e.tag, str) and e.get("role") == "main"]
    container = max(candidates, key=lambda e: len(e.text_content())) if candidates else body
    blocks: list[Block] = []
    _walk(container, blocks, inside_main=container is not body)
    return title, blocks


def _skipped(element) -> bool:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in _SKIP_TAGS or (element.get("role") or "").lower() in _SKIP_ROLES:
        return True
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    if re.search(r"display\s*:\s*none|visibility\s*:\s*hidden", element.get("style") or "", re.I):
        return True
    names = f"{element.get('class') or ''} {element.get('id') or ''}"
    return bool(_BOILERPLATE.search(names)) and tag not in ("main", "article", "body")


def _link_heavy(element) -> bool:
    """Mostly link text (letters and digits counted; separators such as "|" are not words)."""
    text = len(_WORD.findall(element.text_content()))
    links = sum(len(_WORD.findall(a.text_content())) for a in element.iter("a"))
    return text > 0 and links / text > LINK_DENSITY


def _walk(element, blocks: list[Block], inside_main: bool) -> None:
    inline: list[str] = [element.text or ""]

    def flush() -> None:
        text = _clean("".join(inline))
        if text:
            blocks.append(Block(text))
        inline.clear()

    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if not tag:  # a comment or processing instruction: its tail is still text
            inline.append(child.tail or "")
            continue
        if _skipped(child) or (tag in _PAGE_PARTS and not inside_main):
            inline.append(child.tail or "")
            continue
        if tag == "br":
            inline.append(BR)
        elif tag in _HEADINGS:
            flush()
            if text := _clean(child.text_content()):
                blocks.append(Block(text, "heading", level=_HEADINGS[tag]))
        elif tag == "table":
            flush()
            _table(child, blocks)
        elif tag in ("ul", "ol", "div", "section") and _link_heavy(child):
            pass
        elif tag in _LEAVES and not any(isinstance(c.tag, str) and c.tag in _BLOCK_TAGS - {"p"} for c in child):
            flush()
            _walk_leaf(child, blocks)
        elif tag in _BLOCK_TAGS:
            flush()
            _walk(child, blocks, inside_main or tag in ("main", "article"))
        else:  # inline markup: part of the running text
            inline.append(_inline_text(child))
        inline.append(child.tail or "")
    flush()


def _walk_leaf(element, blocks: list[Block]) -> None:
    """A paragraph-like element: its text (paragraphs inside a list item or quote each on their own)."""
    if any(isinstance(c.tag, str) and c.tag == "p" for c in element):
        _walk(element, blocks, True)
    elif text := _clean(_inline_text(element)):
        blocks.append(Block(text))


def _inline_text(element) -> str:
    """Text as shown: skipped elements (a script inside a paragraph) left out, <br> as a line break."""
    parts = [element.text or ""]
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "br":
            parts.append(BR)
        elif tag and not _skipped(child):
            parts.append(_inline_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _table(table, blocks: list[Block]) -> None:
    caption = _clean(table.findtext(".//caption") or "") or None
    rows = []
    for row in table.iter("tr"):
        cells = [_clean(_inline_text(cell)) for cell in row if isinstance(cell.tag, str) and cell.tag in ("td", "th")]
        if any(cells):
            rows.append(" | ".join(cells))
    blocks += table_blocks(rows, caption)


def _clean(text: str) -> str:
    """Whitespace as a browser lays it out: runs of it collapsed to one space, none where a source line break falls
    between two Chinese characters, a line break only where <br> put one."""
    text = _CJK_BREAK.sub("", text)
    text = re.sub(r"[ \t\r\n\f\v]+", " ", text).replace(BR, "\n")  # a no-break space is the text's own
    return "\n".join(line.strip() for line in text.split("\n")).strip()
