"""gunicorn entry point: ``gunicorn mock_idp.wsgi:app``. Refuses to start on bad configuration."""

import sys

from pydantic import ValidationError

from . import create_app
from .issuer_port import warn_if_elsewhere
from .settings import Settings
from .tenant import TenantError

try:
    settings = Settings()
    app = create_app(settings)
except TenantError as error:
    sys.exit(f"mock-idp: {error}")
except ValidationError as error:
    problems = "; ".join(f"MOCK_IDP_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors())
    sys.exit(f"mock-idp: invalid settings: {problems}")
warn_if_elsewhere(settings.issuer)
