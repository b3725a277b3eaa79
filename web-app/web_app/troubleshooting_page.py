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
    settings = services().settings
    path = settings.troubleshooting_file
    urls = tuple(settings.guide_urls.items())
    try:
        guide = _rendered(str(path), path.stat().st_mtime_ns, urls)
    except (OSError, UnicodeDecodeError):
        return render_template("troubleshooting.html", guide=None, name=path.name), 404
    # The names `make -s env` gives these URLs (tools/workshop/shell_variables.py).
    variables = {"IDP": settings.issuer.rstrip("/"), "WEB": settings.base_url, "SRC": settings.source_api_url}
    return render_template("troubleshooting.html", guide=guide, variables=variables)


@lru_cache(maxsize=4)
def _rendered(path: str, modified: int, urls: tuple[tuple[str, str], ...]) -> Markup:
    # Keyed on the modification time, so an edited guide shows without a restart.
    return page_html(Path(path).read_text(encoding="utf-8"), dict(urls))
