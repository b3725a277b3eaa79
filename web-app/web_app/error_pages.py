"""Every failure as a page: what happened, the tutorial step, the upstream error, the likely
cause, what to do, and the troubleshooting entry. Never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .failures import Failure

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.register_error_handler(Failure, failure_page)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def failure_page(failure: Failure):
    log.warning(
        "%s: case=%s error=%s",
        failure,
        failure.case.number if failure.case else "-",
        failure.error or "-",
    )
    response = make_response(render_template("error.html", failure=failure), failure.status)
    if failure.retry_after:
        response.headers["Retry-After"] = failure.retry_after
    return response


def _csrf_refused(error: CSRFError):
    return failure_page(
        Failure(
            400,
            "The form was refused",
            detail=f"{error.description} Reload the page and send the form again: a form is good only "
            "in the browser session that showed it.",
        )
    )


def _http_error(error: HTTPException):
    if error.code is None or error.code < 400:  # e.g. routing redirects
        return error
    return failure_page(Failure(error.code, error.name, detail=error.description))


def _unexpected(error: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    return failure_page(
        Failure(500, "Something went wrong in the web app", detail="The web app's log has the details.")
    )
