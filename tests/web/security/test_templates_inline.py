"""Templates carry no inline script, style or event handler: the CSP would block them."""

from __future__ import annotations

import re
from pathlib import Path

from web.config import ROOT

TEMPLATES = ROOT / "web" / "templates"
# A <script> must have a src and no body; no <style>, style="", on*="" or javascript: URLs.
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "a <script> without src"),
    (re.compile(r"<script[^>]*>\s*[^<\s]", re.I), "a <script> with a body"),
    (re.compile(r"<style[\s>]", re.I), "a <style> element"),
    (re.compile(r"""\sstyle\s*=\s*["'{]""", re.I), "a style attribute"),
    (re.compile(r"""\son[a-z]+\s*=\s*["'{]""", re.I), "an on* event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def inline_code(text: str) -> list[str]:
    """What in a template the CSP would refuse to run or apply."""
    text = re.sub(r"{#.*?#}", "", text, flags=re.S)  # Jinja comments
    return [label for pattern, label in INLINE if pattern.search(text)]


def test_the_scanner_finds_every_kind_of_inline_code():
    assert inline_code('<script src="/static/js/app.js"></script>') == []
    assert inline_code("{# <style> in a comment #}<p>ok</p>") == []
    assert inline_code("<script>alert(1)</script>") == [
        "a <script> without src",
        "a <script> with a body",
    ]
    assert inline_code("<style>p{}</style>") == ["a <style> element"]
    assert inline_code('<p style="color:red">') == ["a style attribute"]
    assert inline_code("<button onclick='go()'>") == ["an on* event handler"]
    assert inline_code('<a href="javascript:go()">') == ["a javascript: URL"]


def test_no_template_has_inline_script_or_style():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 20
    found = {
        str(path.relative_to(ROOT)): inline_code(path.read_text(encoding="utf-8"))
        for path in templates
    }
    offenders = {path: labels for path, labels in found.items() if labels}
    assert offenders == {}, (
        "move the code to web/static/js/*.js or web/static/css/*.css (docs/security.md)"
    )


def test_static_scripts_do_not_use_eval():
    for path in Path(ROOT / "web" / "static").rglob("*.js"):
        if "vendor" in path.parts:
            continue
        assert not re.search(r"\beval\(|new Function\(", path.read_text(encoding="utf-8")), path
