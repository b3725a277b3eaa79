"""gunicorn entry point: ``gunicorn web_app.wsgi:app``. Refuses to start on invalid settings."""

import sys

from pydantic import ValidationError

from obo_common.public_address import warn_if_elsewhere

from . import create_app
from .settings import Settings

try:
    settings = Settings()
    app = create_app(settings)
except ValidationError as error:
    problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
    sys.exit(f"web-app: invalid settings: {problems}")
# A login leaves for <base>/callback: a base URL on another port than ours fails silently.
warn_if_elsewhere("web-app", "WEB_APP_BASE_URL", settings.base_url, "WEB_APP")
