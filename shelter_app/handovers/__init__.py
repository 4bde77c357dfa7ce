"""Shifts and who is on duty, handovers, tasks, incidents, night rounds and presence."""
from flask import Blueprint

bp = Blueprint("handovers", __name__)

from . import routes  # noqa: E402,F401
