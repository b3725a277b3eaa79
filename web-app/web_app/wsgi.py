"""gunicorn entry point: ``gunicorn web_app.wsgi:app``. Refuses to start on invalid settings."""

from obo_common.public_address import warn_if_elsewhere
from obo_common.settings_base import load_settings

from . import create_app
from .settings import Settings

settings = load_settings(Settings, "web-app")
app = create_app(settings)
# A login leaves for <base>/callback: a base URL on another port than ours fails silently.
warn_if_elsewhere("web-app", "WEB_APP_BASE_URL", settings.base_url, "WEB_APP")
