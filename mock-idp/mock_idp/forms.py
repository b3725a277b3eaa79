"""The forms a person fills in at the identity provider, CSRF-protected by Flask-WTF."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Regexp


class LoginForm(FlaskForm):
    action = HiddenField(default="login")
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class SecondFactorForm(FlaskForm):
    action = HiddenField(default="second_factor")
    code = StringField("One-time code", validators=[DataRequired(), Regexp(r"^\s*[0-9]{6}\s*$")])


class ConsentForm(FlaskForm):
    action = HiddenField(default="consent")
    decision = HiddenField(validators=[AnyOf(["accept", "deny"])])


class LogoutForm(FlaskForm):
    """Confirm a logout that came without a valid id_token_hint; it carries the request on."""

    client_id = HiddenField()
    return_to = HiddenField()
    state = HiddenField()
    decision = HiddenField(validators=[AnyOf(["logout", "cancel"])])
