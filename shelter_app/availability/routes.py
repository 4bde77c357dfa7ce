"""The case manager's page of free beds per shelter."""
from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _

from ..auth.permissions import requires
from ..timeutil import utcnow
from ..web import render
from . import services

bp = Blueprint("availability", __name__)


@bp.get("/availability")
@requires("availability.view")
def index():
    now = utcnow()
    return render("availability/index.html", fragment="figures", title=_("Bed availability"),
                  shelters=services.availability(now), now=now)
