"""The app's forms. Each is a POST carrying a CSRF token (checked by CSRFProtect)."""

from flask import request
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, Regexp

ENDPOINTS = {"contacts": "/api/contacts", "me": "/api/me"}


FROM_THE_REQUEST = object()


class HtmlForm(FlaskForm):
    """A form of a page, read from a form-encoded body only: Flask-WTF would also read a JSON
    body, and one that is not an object of pairs (``[{}]``) fails inside it with a 500."""

    def __init__(self, formdata=FROM_THE_REQUEST, **kwargs):
        if formdata is FROM_THE_REQUEST:
            submitted = request.method in ("POST", "PUT", "PATCH", "DELETE") and request.form
            formdata = request.form if submitted else None
        super().__init__(formdata=formdata, **kwargs)


class ActionForm(HtmlForm):
    """A button with nothing to send but the CSRF token (log out, refresh)."""


class CallForm(HtmlForm):
    endpoint = HiddenField(validators=[InputRequired(), AnyOf(list(ENDPOINTS))])


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


# The Source API refuses the same (source_api/try_exchange.py); saying it here names the field.
_PARAMETER = [Length(max=512), Regexp(r"^[^\x00-\x1f\x7f]*$", message="Control characters are not allowed.")]


class TryExchangeForm(HtmlForm):
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


class TryRefreshForm(HtmlForm):
    """The inspector's "try it" on the Source API's refresh of its Target API token."""

    scope = StringField(filters=[_stripped], validators=_PARAMETER)
