"""gunicorn entry point: ``gunicorn target_api.wsgi:app``. Refuses to start on invalid settings."""

from obo_common.settings_base import load_settings

from . import create_app
from .settings import Settings

app = create_app(load_settings(Settings, "target-api"))
