"""Issue markdown -> model text: each rule of preprocess.text, switched on and off."""

import dataclasses

import pytest

from {{ cookiecutter.package_name }}.core.config import TextConfig
from {{ cookiecutter.package_name }}.text import CODE_MARKER, normalise

RULES = [f.name for f in dataclasses.fields(TextConfig) if f.name != "max_chars"]
ALL_ON = TextConfig(**dict.fromkeys(RULES, True), max_chars=4000)
ALL_OFF = TextConfig(**dict.fromkeys(RULES, False), max_chars=4000)


def body_text(body, options=ALL_ON):
    """The normalised text of an issue titled 'T' with this body, without the title part."""
    text = normalise("T", body, options)
    prefix = "t . " if options.lowercase else "T . "
    assert text.startswith(prefix), text
    return text[len(prefix) :]


# (rule, body, text with the rule on, text with it off); all other rules stay on or off alike
RULES = [
    (
        "strip_html_comments",
        "before <!-- Please describe\nthe bug --> after",
        "before after",
        "before <!-- Please describe the bug --> after",
    ),
    (
        "strip_html_comments",  # an unclosed comment runs to the end
        "keep <!-- never closed\nstill a comment",
        "keep",
        "keep <!-- never closed still a comment",
    ),
    (
        "strip_details",
        "see logs <details><summary>Logs</summary>\nline 1\nline 2\n</details> thanks",
        "see logs thanks",
        "see logs <details><summary>Logs</summary> line 1 line 2 </details> thanks",
    ),
    (
        "strip_code_blocks",
        "it fails:\n```python\nraise KeyError('x')\n```\nany idea?",
        "it fails: any idea?",
        "it fails: ```python raise KeyError('x') ``` any idea?",
    ),
    (
        "strip_code_blocks",
        "tilde fence\n~~~\ncode\n~~~\nend",
        "tilde fence end",
        "tilde fence ~~~ code ~~~ end",
    ),
    (
        "strip_images",
        "looks like ![screenshot](https://example.com/a.png) and <img src='b.png' width=300> this",
        "looks like and this",
        "looks like ![screenshot](https://example.com/a.png) and <img src='b.png' width=300> this",
    ),
    (
        "strip_links",
        "read [the docs](https://example.com/docs) or https://example.com/faq?x=1 first",
        "read the docs or first",
        "read [the docs](https://example.com/docs) or https://example.com/faq?x=1 first",
    ),
    (
        "strip_template_headings",
        "### Steps to reproduce\n1. open it\n## Expected behavior\nno crash\n**Actual:**\ncrash",
        "1. open it no crash crash",
        "### Steps to reproduce 1. open it ## Expected behavior no crash **Actual:** crash",
    ),
    (
        "strip_version_lines",
        "broken\nVersion: 1.2.3\n- OS: Windows 11\n**Browser:** Firefox\n- Quill version: 1.4.0\nsince today",
        "broken since today",
        "broken Version: 1.2.3 - OS: Windows 11 **Browser:** Firefox - Quill version: 1.4.0 since today",
    ),
]


@pytest.mark.parametrize(("rule", "body", "on", "off"), RULES, ids=[f"{r[0]}-{i}" for i, r in enumerate(RULES)])
def test_rule_on_and_off(rule, body, on, off):
    only_this_rule = dataclasses.replace(ALL_OFF, **{rule: True})
    assert body_text(body, only_this_rule) == on
    assert body_text(body, ALL_OFF) == off


def test_code_blocks_reduced_to_a_marker():
    # What a block held is gone; that there was one stays (a pasted log or snippet tells bug from question)
    marked = dataclasses.replace(ALL_OFF, strip_code_blocks="marker")
    body = "it fails:\n```python\nraise KeyError('x')\n```\nand ~~~\nlog\n~~~ again"
    assert body_text(body, marked) == f"it fails: {CODE_MARKER} and {CODE_MARKER} again"


def test_heading_does_not_swallow_the_next_line():
    # An empty heading ("###" alone) goes, the text on the following line stays.
    assert body_text("###\nkeep me\n#hashtag stays") == "keep me #hashtag stays"


def test_heading_rule_keeps_inline_bold_and_hashes():
    body = "this is **really** bad, see #123"
    assert body_text(body) == "this is **really** bad, see #123"


def test_version_rule_keeps_prose_mentioning_versions():
    assert body_text("it broke in version 1.2 of the editor") == "it broke in version 1.2 of the editor"


def test_images_are_stripped_before_links():
    # With both rules on, an image leaves no "!alt" behind.
    assert body_text("see ![alt text](https://x/y.png) here") == "see here"


def test_lowercase():
    assert normalise("Crash In Editor", "Steps TO Reproduce", ALL_ON) == "crash in editor . steps to reproduce"
    assert normalise("Crash In Editor", "Steps TO Reproduce", ALL_OFF) == "Crash In Editor . Steps TO Reproduce"


def test_max_chars_cuts_the_text():
    options = dataclasses.replace(ALL_ON, max_chars=10)
    assert normalise("Title", "a long body " * 50, options) == "title . a "
    assert len(normalise("Title", "a long body " * 50, ALL_ON)) == len("title . " + "a long body " * 50) - 1


def test_whitespace_collapsed():
    text = normalise("  Two\tspaces  ", "line one\n\n\n   line two\r\n\tend  ", ALL_OFF)
    assert text == "Two spaces . line one line two end"


def test_title_joined_with_body():
    assert normalise("Crash on save", "It crashes.", ALL_ON) == "crash on save . it crashes."


@pytest.mark.parametrize("body", [None, "", "   \n\n  "])
def test_empty_body(body):
    assert normalise("Crash on save", body, ALL_ON) == "crash on save"


def test_body_that_is_only_noise():
    body = "<!-- template -->\n### Describe the bug\n```\ntrace\n```\n![x](https://x/y.png)\nVersion: 1.0"
    assert normalise("Crash", body, ALL_ON) == "crash"


def test_empty_title():
    assert normalise("", "body text", ALL_ON) == "body text"
    assert normalise(None, "body text", ALL_ON) == "body text"
