"""The app's forms. Each is a POST carrying a CSRF token (checked by CSRFProtect)."""

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, InputRequired

ENDPOINTS = {"contacts": "/api/contacts", "me": "/api/me"}


class ActionForm(FlaskForm):
    """A button with nothing to send but the CSRF token (log out, refresh)."""


class CallForm(FlaskForm):
    endpoint = HiddenField(validators=[InputRequired(), AnyOf(list(ENDPOINTS))])
