"""Markdown (CommonMark with tables, read with markdown-it-py): headings as sections, paragraphs, list items, quotes
and table rows as passages, with the markup gone (emphasis, links keep their text, images their alt text) and a
soft line break joined as the text runs (no space between Chinese characters). Code blocks and HTML blocks are
left out."""

from __future__ import annotations

from qa.documents.blocks import Block, join_lines, table_blocks


def read_markdown(text: str) -> tuple[str | None, list[Block]]:
    """(the first heading as the title, the blocks)."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    blocks: list[Block] = []
    row: list[str] = []
    rows: list[str] = []
    heading, level = False, None
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            heading, level = True, int(token.tag[1:])
        elif token.type == "heading_close":
            heading, level = False, None
        elif token.type == "inline":
            content = _inline(token)
            if tokens[i - 1].type in ("th_open", "td_open"):
                row.append(content)
            elif content:
                blocks.append(Block(content, "heading", level=level) if heading else Block(content))
        elif token.type == "tr_close":
            rows.append(" | ".join(row))
            row = []
        elif token.type == "table_close":
            blocks += table_blocks(rows)
            rows = []
    title = next((b.text for b in blocks if b.kind == "heading"), None)
    return title, blocks


def _inline(token) -> str:
    """An inline token's text without markup; a soft line break is a space, but between Chinese characters."""
    segments = [""]
    for child in token.children or []:
        if child.type in ("text", "code_inline", "image"):  # an image's content is its alt text
            segments[-1] += child.content
        elif child.type == "softbreak":
            segments.append("")
        elif child.type == "hardbreak":
            segments[-1] += "\n"
    text = segments[0]
    for segment in segments[1:]:
        text = join_lines(text.rstrip(" "), segment.lstrip(" "), cjk_document=False)
    return text.strip()
