"""The app's forms. Each is a POST carrying a CSRF token (checked by CSRFProtect)."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, Regexp

ENDPOINTS = {"contacts": "/api/contacts", "me": "/api/me"}


class ActionForm(FlaskForm):
    """A button with nothing to send but the CSRF token (log out, refresh)."""


class CallForm(FlaskForm):
    endpoint = HiddenField(validators=[InputRequired(), AnyOf(list(ENDPOINTS))])


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


# The Source API refuses the same (source_api/try_exchange.py); saying it here names the field.
_PARAMETER = [Length(max=512), Regexp(r"^[^\x00-\x1f\x7f]*$", message="Control characters are not allowed.")]


class TryExchangeForm(FlaskForm):
    """The inspector's "try it" on the Source API's exchange: empty fields are not sent."""

    audience = StringField(filters=[_stripped], validators=_PARAMETER)
    scope = StringField(filters=[_stripped], validators=_PARAMETER)
    requested_token_type = StringField(filters=[_stripped], validators=_PARAMETER)
    resource = StringField(filters=[_stripped], validators=_PARAMETER)
    actor_token = SelectField(
        choices=[
            SelectChoice("none", "none"),
            SelectChoice("source-api", "the Source API's own client-credentials token"),
        ],
        default="none",
    )


class TryRefreshForm(FlaskForm):
    """The inspector's "try it" on the Source API's refresh of its Target API token."""

    scope = StringField(filters=[_stripped], validators=_PARAMETER)
