"""GET /troubleshooting: the project's troubleshooting guide (Markdown) as a page.

Error pages link to its entries (``#t01`` ... ``#t39``); each case's heading in the file
carries that anchor.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import Blueprint, render_template
from markupsafe import Markup

from .guide_markdown import page_html
from .services import services

bp = Blueprint("troubleshooting", __name__)


@bp.get("/troubleshooting")
def troubleshooting():
    path = services().settings.troubleshooting_file
    try:
        guide = _rendered(str(path), path.stat().st_mtime_ns)
    except (OSError, UnicodeDecodeError):
        return render_template("troubleshooting.html", guide=None, name=path.name), 404
    return render_template("troubleshooting.html", guide=guide)


@lru_cache(maxsize=4)
def _rendered(path: str, modified: int) -> Markup:
    # Keyed on the modification time, so an edited guide shows without a restart.
    return page_html(Path(path).read_text(encoding="utf-8"))
