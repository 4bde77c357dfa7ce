"""The one action path every POST goes through, and the answers it ends in (303, htmx redirect)."""
from __future__ import annotations

from typing import Callable

from flask import current_app, flash, g, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError, OperationalError

from .errors import Conflict, DomainError, NotFound, OutOfScope, lost_to_concurrent, record_denied, status_of
from .extensions import db, htmx
from .outcome import Outcome  # noqa: F401  (views take it from here, with act)
from .rendering import is_fragment_request, render  # noqa: F401  (views take them from here)
from .submissions import claim, complete


def see_other_url(url: str):
    """The 303 that ends a plain POST; for htmx a redirect header so the browser follows it."""
    if htmx:
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


def see_other(endpoint: str, **values):
    """see_other_url for an endpoint."""
    return see_other_url(url_for(endpoint, **values))


def error_field(form, exc):
    """The field of form that exc (a DomainError) names, if the form has it."""
    field = getattr(form, exc.field, None) if exc.field else None
    return field if field is not None and hasattr(field, "errors") else None


def attach_error(form, exc) -> None:
    """Show exc's message at the field it names, else as an error of the whole form."""
    field = error_field(form, exc)
    if field is not None:
        field.errors = list(field.errors) + [exc.message]
    else:
        form.form_errors.append(exc.message)


def chosen(getter, field, message: str):
    """The row a select field picked; an id that names nothing is the field's error (422), not a 404."""
    try:
        return getter(field.data)
    except NotFound:
        raise DomainError(message, field=field.short_name) from None


# --- the action path ------------------------------------------------------------------------

def save_in_passing() -> bool:
    """Commit what a read left behind (a session's last use, a token's): best effort, never an error.

    If another writer holds the database, nothing is lost that matters: the next request records it.
    """
    if not (db.session.dirty or db.session.new):
        return True
    try:
        db.session.commit()
    except OperationalError:
        db.session.rollback()
        return False
    return True


def audited_read(response):
    """Commit the audit of a read before its page is sent: no record leaves the server unlogged.

    Called after rendering, because a commit expires every loaded row.
    """
    db.session.commit()
    return response


def after_commit(effect: Callable[[], None]) -> None:
    """Queue a side effect (a push, a notification) to run once the action's transaction committed."""
    g.setdefault("after_commit", []).append(effect)


def _run_after_commit() -> None:
    for effect in g.pop("after_commit", []):
        try:
            effect()
        except Exception:  # a failed push must not turn a saved action into an error page
            current_app.logger.exception("side effect after commit failed")


def _answer(outcome: Outcome, fragment, done=None):
    if done is not None:
        return done(outcome)
    if fragment is not None and is_fragment_request():
        return fragment(outcome)
    if outcome.message:
        flash(outcome.message, "success")
    return see_other_url(outcome.location)


def act(perform: Callable[[], Outcome], *, again: Callable[[int], object], form=None, fragment=None,
        done=None, keep_on_refusal: bool = False):
    """The one path of every POST: validate → one service call → commit once → side effects → answer.

    perform() makes the one service call and returns an Outcome. On success the change is committed,
    queued side effects run, and the answer is fragment(outcome) for htmx or a 303 to
    outcome.location (done(outcome) instead, where the answer must be a page, e.g. a secret shown
    once). On a refusal (invalid form, DomainError, a constraint the database enforces)
    nothing is saved (unless keep_on_refusal, for records of the refusal itself such as a failed
    sign-in), the message goes to the field it names or to the form, and again(status) renders the
    form once more with what was typed. A form sent twice with the same one-time token
    (`form_token`, or an `Idempotency-Key` header) is done once; the second answer is the first one's.
    """
    g.pop("after_commit", None)
    if form is not None and not form.validate():
        db.session.rollback()
        return again(422)
    token = (request.form.get("form_token") or request.headers.get("Idempotency-Key") or "").strip()
    submission = None
    try:
        if token and current_user.is_authenticated:
            submission, earlier = claim(current_user, token, request.path)
            if earlier is not None:
                db.session.rollback()
                return _answer(earlier, fragment, done)
        outcome = perform()
        if submission is not None:
            complete(submission, outcome)
        db.session.flush()
    except IntegrityError:
        refusal: DomainError = Conflict(_conflict_message())
    except DomainError as exc:
        refusal = exc
    except OperationalError as exc:
        if not lost_to_concurrent(exc):  # the database is gone: the 503 (errors.py)
            raise
        refusal = Conflict(_conflict_message())
    else:
        try:
            db.session.commit()
        except IntegrityError:
            refusal = Conflict(_conflict_message())
        except OperationalError as exc:
            if not lost_to_concurrent(exc):
                raise
            refusal = Conflict(_conflict_message())
        else:
            _run_after_commit()
            return _answer(outcome, fragment, done)
    g.pop("after_commit", None)
    if keep_on_refusal:
        if submission is not None and submission in db.session:
            # The form's one-time token goes with the refused action: the form may be sent again.
            db.session.delete(submission)
        db.session.commit()
    else:
        db.session.rollback()
    if isinstance(refusal, OutOfScope):  # another shelter's row named in a field: its refusal is audited
        record_denied(status_of(refusal), **{refusal.field: refusal.value})
    if form is not None:
        attach_error(form, refusal)
    g.refusal = refusal
    return again(status_of(refusal))


def _conflict_message() -> str:
    return _("Someone else changed this at the same moment. Look at it again and retry.")


def refusal_message() -> str | None:
    """The message of the refusal act() is answering, if any (for a panel that shows it on top)."""
    refusal = g.get("refusal")
    return refusal.message if refusal is not None else None
