"""gunicorn entry point: ``gunicorn web_app.wsgi:app``. Refuses to start on invalid settings."""

import sys

from pydantic import ValidationError

from . import create_app

try:
    app = create_app()
except ValidationError as error:
    problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
    sys.exit(f"web-app: invalid settings: {problems}")
