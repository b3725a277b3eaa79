"""Download the flow inspector's recorded run: ``/inspector/export.har`` and ``.json``.

Demo tools only and logged in, like the inspector: the file is the user's own run. Tokens
are shortened as the page shows them unless ``?tokens=whole`` asks for the demo tokens
whole (for the attendee's own use); secrets are never in the record to begin with.
"""

from __future__ import annotations

import json
import time

from flask import Blueprint, Response, request

from . import run_export
from .failures import Failure
from .inspector import demo_only, recorded
from .pages import login_required

bp = Blueprint("inspector_export", __name__)
FORMATS = {"har": run_export.har, "json": run_export.document}
TOKEN_CHOICES = {"": False, "shortened": False, "whole": True}


@bp.get("/inspector/export.<fmt>")
@demo_only
@login_required
def export(fmt: str):
    if fmt not in FORMATS:
        raise Failure(404, "No such export", detail="The run downloads as export.har or export.json.")
    choice = request.args.get("tokens", "")
    if choice not in TOKEN_CHOICES:
        raise Failure(
            400,
            "Unknown value for tokens",
            detail="Leave it out (tokens shortened, as on the page) or use tokens=whole to keep your demo tokens.",
        )
    content = FORMATS[fmt](recorded(), whole_tokens=TOKEN_CHOICES[choice])
    name = time.strftime("obo-run-%Y%m%d-%H%M%S", time.gmtime()) + f".{fmt}"
    return Response(
        json.dumps(content, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
