"""Domain errors and the error pages."""
from __future__ import annotations

from flask import Flask, jsonify, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A refusal a person can act on; status is the HTTP answer, field the input at fault."""

    status = 422

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403


class Unauthorized(DomainError):
    status = 401


class TooManyRequests(DomainError):
    status = 429


# The one table from a refusal to its HTTP status, most specific first. A select field naming a row
# that does not exist is the field's error (422, see web.chosen); an id in the URL that names nothing
# is a 404; a database constraint that refuses a change is a 409.
ERROR_STATUS: list[tuple[type[DomainError], int]] = [
    (TooManyRequests, 429),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (DomainError, 422),
]


def status_of(exc: DomainError) -> int:
    """The HTTP status of a refusal, from ERROR_STATUS."""
    return next(status for kind, status in ERROR_STATUS if isinstance(exc, kind))


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def register_errors(app: Flask) -> None:
    """Error pages in the layout (or JSON for the API) for 400, 401, 403, 404, 413, 500."""
    from .web import render

    titles = {
        400: lambda: _("Bad request"),
        401: lambda: _("Please sign in"),
        403: lambda: _("Not allowed"),
        404: lambda: _("Not found"),
        405: lambda: _("Not allowed"),
        409: lambda: _("Not possible now"),
        413: lambda: _("Too large"),
        422: lambda: _("Please check the input"),
        429: lambda: _("Too many requests"),
        500: lambda: _("Something went wrong"),
    }
    messages = {
        400: lambda: _("The request could not be understood."),
        401: lambda: _("Your session has ended. Please sign in again."),
        403: lambda: _("Your role does not give access to this page."),
        404: lambda: _("There is nothing at this address."),
        405: lambda: _("This address does not accept that kind of request."),
        413: lambda: _("What was sent is too large."),
        429: lambda: _("Too many requests. Wait a moment and try again."),
        500: lambda: _("The error has been logged. Please try again; if it happens again, tell the manager."),
    }

    def page(status: int, message: str | None = None):
        title = titles.get(status, titles[500])()
        message = message or messages.get(status, messages[500])()
        if _wants_json():
            return jsonify({"error": title, "message": message}), status
        return render("errors/error.html", fragment="content", status=status,
                      title=title, message=message, code=status)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return page(400, _("The form expired or was sent from elsewhere. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if exc.code in (301, 302, 303, 307, 308):
            return exc
        return page(exc.code or 500)

    @app.errorhandler(DomainError)
    def domain_error(exc):
        from .extensions import db
        db.session.rollback()
        return page(status_of(exc), exc.message)

    @app.errorhandler(Exception)
    def unexpected(exc):
        app.logger.exception("unhandled error")
        from .extensions import db
        db.session.rollback()
        return page(500)


def flush_or_conflict(messages: dict[str, str]) -> None:
    """Flush; a constraint the database refuses becomes a Conflict with the matching message.

    messages maps a fragment of the database's error (constraint or index name, or SQLite's
    "table.column") to the sentence a person should read.
    """
    from sqlalchemy.exc import IntegrityError

    from .extensions import db

    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        detail = str(exc.orig)
        for fragment, message in messages.items():
            if fragment in detail:
                raise Conflict(message) from None
        raise
