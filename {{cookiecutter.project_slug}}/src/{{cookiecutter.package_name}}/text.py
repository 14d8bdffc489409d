"""Issue markdown -> model text, following the vscode classifier's rules (each one switchable)."""

from __future__ import annotations

import re

from .core.config import TextConfig

# Every pattern runs in time linear in the body, whatever it holds (5 MB logs, thousands of blank
# lines, brackets never closed): no two adjacent repeats can match the same text (possessive
# repeats, `*+`, never give back), and a link's or an image's parts are bounded and stop where
# another one starts.
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_DETAILS = re.compile(r"<details\b.*?(?:</details>|$)", re.S | re.I)
_CODE_FENCE = re.compile(r"(```|~~~).*?(?:\1|$)", re.S)
_IMAGE = re.compile(r"!\[[^\[\]]{0,1000}\]\([^)\[\n]{0,2000}\)|<img\b[^<>]{0,2000}>", re.I)
_LINK = re.compile(r"\[([^\[\]]{0,1000})\]\([^)\[\n]{0,2000}\)")
_URL = re.compile(r"https?://\S+")
_HEADING = re.compile(r"^[ \t]{0,3}(#{1,6}(?:[ \t].*)?|\*\*[^*\n]{1,60}\*\*:?[ \t]*)$", re.M)
_VERSION_LINE = re.compile(  # (?=...): only lines with a colon are tried (a body of blank lines is quick)
    r"^(?=[^\n:]*+:)[ \t]*+(?:[-*][ \t]*+)?(?:\*++[ \t]*+)?"
    r"((?:[\w.]++[ \t]++)?version|os|platform|browser|node|python|commit|date)[ \t]*+(?:\*++[ \t]*+)?:.*$",
    re.M | re.I,
)
_SPACE = re.compile(r"\s+")
CODE_MARKER = "codeblock"  # strip_code_blocks: marker: what is left of a block (that the issue pasted one)


def normalise(title: str, body: str, options: TextConfig) -> str:
    """Title and body joined into one cleaned line of text."""
    body = body or ""
    if options.strip_html_comments:
        body = _HTML_COMMENT.sub(" ", body)
    if options.strip_details:
        body = _DETAILS.sub(" ", body)
    if options.strip_code_blocks:
        body = _CODE_FENCE.sub(f" {CODE_MARKER} " if options.strip_code_blocks == "marker" else " ", body)
    if options.strip_images:
        body = _IMAGE.sub(" ", body)
    if options.strip_links:
        body = _URL.sub(" ", _LINK.sub(r"\1", body))
    if options.strip_template_headings:
        body = _HEADING.sub(" ", body)
    if options.strip_version_lines:
        body = _VERSION_LINE.sub(" ", body)
    parts = [_SPACE.sub(" ", part).strip() for part in (title or "", body)]
    text = " . ".join(part for part in parts if part)  # " . " marks where the title ends
    if options.lowercase:
        text = text.lower()
    return text[: options.max_chars]
