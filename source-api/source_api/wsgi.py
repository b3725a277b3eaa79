"""gunicorn entry point: ``gunicorn source_api.wsgi:app``."""

import sys

from pydantic import ValidationError

from . import create_app

try:
    app = create_app()
except ValidationError as error:
    sys.exit(f"source-api: invalid settings: {error}")
