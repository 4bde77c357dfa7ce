"""Domain errors and the error pages."""
from __future__ import annotations

from contextlib import nullcontext

from flask import Flask, g, jsonify, request
from flask_babel import force_locale, gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from .audit.services import record
from .extensions import db, login_manager
from .rendering import render
from .timeutil import utcnow


class DomainError(Exception):
    """A refusal a person can act on; status is the HTTP answer, field the input at fault."""

    status = 422

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status = 404


class OutOfScope(DomainError):
    """A form field named a row that exists but is not the actor's to see (another shelter's resident or bed).

    Answered as for a row that does not exist, the field's error (422), so the form tells nothing about the
    other shelter; unlike that, it is audited as a denied access (web.act writes it after the rollback).
    """

    def __init__(self, message: str, *, field: str, value):
        super().__init__(message, field=field)
        self.value = value


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


# SQLSTATEs of a transaction that lost to a concurrent one (deadlock detected, serialization failure):
# the database is fine, the person's action met another at the same moment.
LOST_TO_CONCURRENT = {"40P01", "40001"}


def lost_to_concurrent(exc: BaseException) -> bool:
    """True if exc is PostgreSQL aborting this transaction in favour of a concurrent one."""
    orig = getattr(exc, "orig", None)
    return isinstance(exc, DBAPIError) and getattr(orig, "sqlstate", None) in LOST_TO_CONCURRENT


def database_unavailable(exc: BaseException) -> bool:
    """True if exc means the database cannot be reached or used now (down, restarting, saturated)."""
    if lost_to_concurrent(exc):
        return False
    return isinstance(exc, (OperationalError, PoolTimeout)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


@event.listens_for(Engine, "handle_error")
def _hide_row_values(context) -> None:
    """Keep the values of a failing row out of the error, and so out of every log.

    The engine hides the statement's parameters (hide_parameters), but PostgreSQL's own message
    quotes them again in its DETAIL ("Failing row contains (…, $argon2id$…)", "Key (username)=(…)").
    Only the primary message is kept; it names the constraint, which is what callers match on.
    """
    orig = context.original_exception
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if not primary or not orig.args or orig.args[0] == primary:
        return
    orig.args = (primary,)
    wrapped = context.sqlalchemy_exception
    if wrapped is not None:
        wrapped.args = (f"({type(orig).__module__}.{type(orig).__name__}) {primary}",)


def _rollback() -> None:
    """Roll back the request's transaction; a database that is gone has nothing to roll back."""
    try:
        db.session.rollback()
    except Exception:  # the connection is already lost: the pool discards it
        pass


def record_denied(status: int, **named) -> None:
    """Audit a signed-in user's refusal: a page refused (403), an id in the URL that names nothing of theirs
    (404), or a form field naming a row of another shelter (named: that field and the id it named; 422).

    Written in a transaction of its own, after the refused one was rolled back.
    """
    ids = {k: v for k, v in (request.view_args or {}).items() if k.endswith(("_id", "_ref"))}
    if not named and (status not in (403, 404) or (status == 404 and not ids)):
        return
    try:
        if not current_user.is_authenticated:
            return
        record("access.denied", actor=current_user, at=utcnow(), status=status,
               endpoint=request.endpoint, method=request.method, **{**ids, **named})
        db.session.commit()
    except Exception:  # the refusal is answered whatever happens to its record (the page says if the
        _rollback()    # database is gone)


def register_errors(app: Flask) -> None:
    """Error pages in the layout (or JSON for the API) for 400, 401, 403, 404, 413, 500, and 503."""
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
        try:
            title = titles.get(status, titles[500])()
            message = message or messages.get(status, messages[500])()
            if _wants_json():
                return jsonify({"error": title, "message": message}), status
            return render("errors/error.html", fragment="content", status=status,
                          title=title, message=message, code=status)
        except Exception as exc:
            # The page itself needs the user (layout, language): with the database gone, the 503.
            if database_unavailable(exc):
                return unavailable(exc)
            raise

    def unavailable(exc: BaseException):
        """The 503: the layout without anything that needs the database, in the user's language."""
        app.logger.error("database unavailable during %s %s: %s", request.method, request.path,
                         _first_line(exc))
        user = g.get("_login_user")
        # A user loaded before the database went away keeps their language (read without a query).
        locale = vars(user).get("locale") if getattr(user, "is_authenticated", False) else None
        _rollback()
        # Nobody is signed in for the rest of this answer: the layout must not ask the database who.
        g._login_user = login_manager.anonymous_user()
        with force_locale(locale) if locale else nullcontext():
            title = _("Service unavailable")
            sent = request.method not in ("GET", "HEAD", "OPTIONS")
            message = (_("The service is unavailable; nothing you entered was saved.") if sent
                       else _("The service is unavailable."))
            hint = _("The database cannot be reached. Please try again in a few minutes.")
            if _wants_json():
                response = jsonify({"error": title, "message": f"{message} {hint}"})
                response.status_code = 503
            else:
                retry = request.full_path.rstrip("?") if not sent else None
                response = render("errors/unavailable.html", fragment="content", status=503,
                                  title=title, message=message, hint=hint, retry=retry,
                                  shell_only=True, nav_items=[])
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return page(400, _("The form expired or was sent from elsewhere. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if exc.code in (301, 302, 303, 307, 308):
            return exc
        record_denied(exc.code or 500)
        return page(exc.code or 500)

    @app.errorhandler(DomainError)
    def domain_error(exc):
        _rollback()
        record_denied(status_of(exc), **({exc.field: exc.value} if isinstance(exc, OutOfScope) else {}))
        return page(status_of(exc), exc.message)

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def database_error(exc):
        if lost_to_concurrent(exc):  # outside an action (a page's own write): the same answer as a conflict
            _rollback()
            return page(409, _("Someone else changed this at the same moment. Look at it again and retry."))
        return unavailable(exc)

    @app.errorhandler(Exception)
    def unexpected(exc):
        if database_unavailable(exc):
            return unavailable(exc)
        app.logger.exception("unhandled error")
        _rollback()
        return page(500)


def _first_line(exc: BaseException) -> str:
    """What went wrong, in one line: the error's kind and the first line of its message."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {text[0] if text else ''}"


def flush_or_conflict(messages: dict[str, str]) -> None:
    """Flush; a constraint the database refuses becomes a Conflict with the matching message.

    messages maps a fragment of the database's error (constraint or index name, or SQLite's
    "table.column") to the sentence a person should read.
    """
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        detail = str(exc.orig)
        for fragment, message in messages.items():
            if fragment in detail:
                raise Conflict(message) from None
        raise
