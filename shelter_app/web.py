"""Rendering helpers: a full page, or only a block of it for htmx requests."""
from __future__ import annotations

from flask import current_app, make_response, redirect, render_template, url_for

from .extensions import htmx


def is_fragment_request() -> bool:
    """True for an htmx request that wants a fragment (not a boosted navigation)."""
    return bool(htmx) and not htmx.boosted


def render(template_name: str, *, fragment: str | None = None, status: int = 200, **context):
    """Render a page; for htmx (not boosted) requests only its `fragment` block. Varies on HX-Request."""
    if fragment and is_fragment_request():
        current_app.update_template_context(context)
        template = current_app.jinja_env.get_template(template_name)
        block = template.blocks[fragment]
        html = "".join(block(template.new_context(context)))
    else:
        html = render_template(template_name, **context)
    response = make_response(html, status)
    response.vary.add("HX-Request")
    return response


def see_other(endpoint: str, **values):
    """The 303 that ends a plain POST; for htmx a redirect header so the browser follows it."""
    url = url_for(endpoint, **values)
    if htmx:
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


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
