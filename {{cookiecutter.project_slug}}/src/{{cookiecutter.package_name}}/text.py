"""Issue markdown -> model text, following the vscode classifier's rules (each one switchable)."""

from __future__ import annotations

import re

from .config import TextConfig

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_DETAILS = re.compile(r"<details\b.*?(?:</details>|$)", re.S | re.I)
_CODE_FENCE = re.compile(r"(```|~~~).*?(?:\1|$)", re.S)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|<img\b[^>]*>", re.I)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"https?://\S+")
_HEADING = re.compile(r"^[ \t]{0,3}(#{1,6}(?:[ \t].*)?|\*\*[^*\n]{1,60}\*\*:?\s*)$", re.M)
_VERSION_LINE = re.compile(
    r"^\s*[-*]?\s*\**\s*((?:[\w.]+[ \t]+)?version|os|platform|browser|node|python|commit|date)\s*\**\s*:.*$",
    re.M | re.I,
)
_SPACE = re.compile(r"\s+")


def normalise(title: str, body: str, options: TextConfig) -> str:
    """Title and body joined into one cleaned line of text."""
    body = body or ""
    if options.strip_html_comments:
        body = _HTML_COMMENT.sub(" ", body)
    if options.strip_details:
        body = _DETAILS.sub(" ", body)
    if options.strip_code_blocks:
        body = _CODE_FENCE.sub(" ", body)
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
