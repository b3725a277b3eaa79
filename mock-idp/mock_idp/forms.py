"""The forms a person fills in at the identity provider, CSRF-protected by Flask-WTF."""

from flask import request
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Regexp

FROM_THE_REQUEST = object()


class HtmlForm(FlaskForm):
    """A form of a page, read from a form-encoded body only: Flask-WTF would also read a JSON
    body, and one that is not an object of pairs (``[{}]``) fails inside it with a 500."""

    def __init__(self, formdata=FROM_THE_REQUEST, **kwargs):
        if formdata is FROM_THE_REQUEST:
            submitted = request.method in ("POST", "PUT", "PATCH", "DELETE") and request.form
            formdata = request.form if submitted else None
        super().__init__(formdata=formdata, **kwargs)


class LoginForm(HtmlForm):
    action = HiddenField(default="login")
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class SecondFactorForm(HtmlForm):
    action = HiddenField(default="second_factor")
    code = StringField("One-time code", validators=[DataRequired(), Regexp(r"^\s*[0-9]{6}\s*$")])


class ConsentForm(HtmlForm):
    action = HiddenField(default="consent")
    decision = HiddenField(validators=[AnyOf(["accept", "deny"])])


class LogoutForm(HtmlForm):
    """Confirm a logout that came without a valid id_token_hint; it carries the request on."""

    client_id = HiddenField()
    return_to = HiddenField()
    state = HiddenField()
    decision = HiddenField(validators=[AnyOf(["logout", "cancel"])])
