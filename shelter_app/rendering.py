"""Rendering a page or only its fragment (for htmx): used by the views and by the error pages."""
from __future__ import annotations

from flask import current_app, make_response, render_template

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
