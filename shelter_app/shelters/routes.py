"""Shelter setup (managers): shelters, their rooms and beds."""
from __future__ import annotations

from flask import Blueprint, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..auth.permissions import requires
from ..beds import services as beds
from ..errors import DomainError
from ..timeutil import utcnow
from ..web import Outcome, act, chosen, render
from . import services
from .forms import BedForm, RoomForm, ShelterForm

bp = Blueprint("shelters", __name__)


@bp.route("/shelters", methods=["GET", "POST"])
@requires("shelters.setup")
def index():
    form = ShelterForm()

    def again(status: int = 200):
        return render("shelters/index.html", fragment="content", status=status, form=form,
                      shelters=services.list_shelters(actor=current_user), title=_("Shelters"))

    if request.method == "GET":
        return again()

    def perform():
        shelter = services.create_shelter(form.code_name.data, form.name.data, form.address.data or "",
                                          actor=current_user, at=utcnow())
        return Outcome(_("Shelter %(name)s added.", name=shelter.name), url_for("shelters.setup", shelter_id=shelter.id))

    return act(perform, form=form, again=again)


def _change(shelter, key: str, form) -> str:
    """One change of shelter's setup, named by the form that was sent; the message to show."""
    now = utcnow()
    if key == "shelter":
        services.update_shelter(shelter, form.code_name.data, form.name.data, form.address.data or "",
                                actor=current_user, at=now)
        return _("Saved.")
    if key == "room":
        room = services.create_room(shelter, form.name.data, form.kind.data, form.room_group.data,
                                    actor=current_user, at=now)
        return _("Room %(name)s added.", name=room.name)
    room = chosen(services.get_room, form.room_id, _("Choose a room of this shelter."))
    if room.shelter_id != shelter.id:
        raise DomainError(_("Choose a room of this shelter."), field="room_id")
    bed = services.create_bed(room, form.label.data, form.category.data, actor=current_user, at=now)
    return _("Bed %(label)s added to %(room)s.", label=bed.label, room=room.name)


@bp.route("/shelters/<int:shelter_id>", methods=["GET", "POST"])
@requires("shelters.setup")
def setup(shelter_id: int):
    shelter = services.get_shelter(shelter_id, actor=current_user)
    forms = {"shelter": ShelterForm(prefix="s", obj=shelter), "room": RoomForm(prefix="room"),
             "bed": BedForm(prefix="bed")}

    def again(status: int = 200):
        fresh = services.get_shelter(shelter_id, actor=current_user)
        forms["bed"].room_id.choices = [SelectChoice(r.id, r.name) for r in fresh.rooms if not r.is_isolation]
        return render("shelters/setup.html", fragment="content", status=status, shelter=fresh,
                      board=beds.board(fresh, utcnow()), forms=forms, title=fresh.name)

    if request.method == "GET":
        return again()
    key = request.form.get("action", "")
    if key not in forms:
        raise DomainError(_("Unknown action."))
    return act(lambda: Outcome(_change(shelter, key, forms[key]), url_for("shelters.setup", shelter_id=shelter.id)),
               form=forms[key], again=again)
