"""GET /troubleshooting: the project's troubleshooting guide (Markdown) as a page.

Error pages link to its entries (``#t01`` ... ``#t37``); each case's heading in the file
carries that anchor.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import markdown
from flask import Blueprint, render_template
from markupsafe import Markup

from .services import services

bp = Blueprint("troubleshooting", __name__)
# A link to another page of docs/ (``management-api.md#a-token``): this app serves only the
# guide, so the link becomes the file's name, which a reader finds in the repository.
_OTHER_DOC = re.compile(r'<a href="([\w-]+\.md)(#[\w-]*)?">(.*?)</a>')


@bp.get("/troubleshooting")
def troubleshooting():
    path = services().settings.troubleshooting_file
    try:
        guide = _rendered(str(path), path.stat().st_mtime_ns)
    except OSError:
        return render_template("troubleshooting.html", guide=None, name=path.name), 404
    return render_template("troubleshooting.html", guide=guide)


@lru_cache(maxsize=4)
def _rendered(path: str, modified: int) -> Markup:
    # Keyed on the modification time, so an edited guide shows without a restart. The file
    # is the project's own documentation, so its inline HTML (the anchors) is kept.
    text = Path(path).read_text(encoding="utf-8")
    html = markdown.markdown(text, extensions=["tables", "fenced_code"])
    html = _OTHER_DOC.sub(lambda m: f"{m.group(3)} (<code>docs/{m.group(1)}{m.group(2) or ''}</code>)", html)
    return Markup(html)  # noqa: S704
