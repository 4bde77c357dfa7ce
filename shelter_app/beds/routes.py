"""The bed board, a bed's panel, and every bed action (each through web.act)."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..auth.permissions import can, requires
from ..handovers import services as handovers
from ..referrals import forms as referral_forms, services as referrals
from ..residents.services import ResidentInput
from ..shelters import services as shelters
from ..shelters.vocab import BedCategory
from ..timeutil import utcnow
from ..web import Outcome, act, audited_read, is_fragment_request, refusal_message, render
from . import services
from .forms import (CheckInForm, CheckOutForm, ConfirmForm, EndIsolationForm, HoldForm, IsolateForm, MoveForm,
                    OutOfServiceForm)

bp = Blueprint("beds", __name__)


# --- the board ---------------------------------------------------------------------------------

@bp.get("/board")
@requires("beds.view")
def index():
    mine = shelters.list_shelters(actor=current_user)
    if not mine:
        # Either nothing is set up yet, or this account was given no shelter.
        return render("beds/empty.html", title=_("Beds"), no_shelter=shelters.first_shelter_id() is not None)
    remembered = session.get("shelter_id")
    shelter_id = remembered if any(s.id == remembered for s in mine) else mine[0].id
    return redirect(url_for("beds.show", shelter_id=shelter_id))


def render_board(shelter, *, status: int = 200, message: str | None = None, refusal: str | None = None,
                 failed_referral: dict | None = None):
    """The board of shelter (the #board fragment for htmx), with the referral block and its forms."""
    now = utcnow()
    minutes = current_app.config["REFERRAL_ANSWER_MINUTES"]
    box = referrals.inbox(shelter, now, answer_minutes=minutes, actor=current_user)
    board = services.board(shelter, now, actor=current_user)
    return audited_read(render("beds/board.html", fragment="board", status=status, title=_("Beds"),
                  board=board, shelters=shelters.list_shelters(actor=current_user),
                  handover_notice=handovers.board_notice(shelter, now, actor=current_user)
                  if can(current_user, "handovers.view") else None,
                  referral_board=referral_forms.board_referrals(box, shelter.id, now, minutes, failed_referral or {}),
                  undo_forms={f"{item.kind}{item.id}": ConfirmForm(prefix=f"undo{item.kind}{item.id}", formdata=None)
                              for item in board.undo},
                  message=message, refusal=refusal))


def on_board(shelter):
    """The answer to a successful htmx action on shelter's board: the board again, with the message."""
    return lambda outcome: render_board(shelter, message=outcome.message)


def board_location(shelter_id: int, anchor: str) -> str:
    return url_for("beds.show", shelter_id=shelter_id) + f"#{anchor}"


@bp.get("/board/<int:shelter_id>")
@requires("beds.view")
def show(shelter_id: int):
    shelter = shelters.get_shelter(shelter_id, actor=current_user)
    session["shelter_id"] = shelter.id
    return render_board(shelter)


# --- a bed's panel -----------------------------------------------------------------------------

FORMS = {
    "check_in": (CheckInForm, "ci"), "hold": (HoldForm, "h"), "out_of_service": (OutOfServiceForm, "o"),
    "release_hold": (ConfirmForm, "r"), "in_service": (ConfirmForm, "s"), "move": (MoveForm, "m"),
    "check_out": (CheckOutForm, "co"), "isolate": (IsolateForm, "is"), "end_isolation": (EndIsolationForm, "ei"),
}


def _panel_context(bed_id: int, failed: dict):
    """What the panel of a bed shows, read fresh, with fresh forms except a failed one (with its errors)."""
    now = utcnow()
    view = services.panel(bed_id, now, actor=current_user)
    forms = {key: failed.get(key) or cls(prefix=prefix, formdata=None) for key, (cls, prefix) in FORMS.items()}
    forms["check_in"].resident_id.choices = [SelectChoice("", _("— choose —"))] + [
        SelectChoice(r.id, f"{r.alias} · {r.code}") for r in view.residents_without_bed]
    forms["move"].to_bed_id.choices = [SelectChoice("", _("— choose —"))] + [
        SelectChoice(t.bed.id, f"{t.bed.room.name} · {t.bed.label} ({BedCategory(t.bed.category).label})"
                     + ("" if t.fits else " · " + _("does not fit")))
        for t in view.move_targets]
    forms["isolate"].room_id.choices = (
        [SelectChoice(str(r.id), r.name) for r in view.isolation_rooms]
        + ([SelectChoice(services.IN_PLACE, _("In place: isolate the resident's own room"))]
           if view.may_isolate_in_place else [])
        + [SelectChoice(str(r.id), f"{r.shelter.name} · {r.name}") for r in view.other_isolation_rooms])
    if forms["hold"].expires_at.data is None and not forms["hold"].expires_at.raw_data:
        forms["hold"].expires_at.set_utc(now + timedelta(hours=4))
    if forms["isolate"].expected_end_at.data is None and not forms["isolate"].expected_end_at.raw_data:
        forms["isolate"].expected_end_at.set_utc(now + timedelta(days=3))
    refusal = " ".join(message for form in failed.values() for message in form.form_errors) or None
    return {"view": view, "bed": view.bed, "forms": forms, "refusal": refusal,
            "may_override": can(current_user, "beds.category_override"),
            "title": _("Bed %(label)s", label=view.bed.label)}


def render_panel(bed_id: int, *, status: int = 200, failed: dict | None = None):
    response = audited_read(render("beds/bed.html", fragment="panel", status=status,
                                   **_panel_context(bed_id, failed or {})))
    if status != 200 and is_fragment_request():
        # A refused action was posted from the panel with the board as its target: answer the panel.
        response.headers["HX-Retarget"] = "#panel"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


@bp.get("/beds/<int:bed_id>")
@requires("beds.view")
def bed(bed_id: int):
    return render_panel(bed_id)


# --- the bed actions: each a function (form, bed_id, actor, now) -> message ---------------------

def bed_action(slug: str):
    """Register run as the POST /beds/<id>/<slug> action, with its form from FORMS under run's name."""

    def register(run):
        key = run.__name__
        form_class, prefix = FORMS[key]

        def view(bed_id: int):
            # A bed that does not exist, or is another shelter's, is a 404.
            shelter = services.get_bed(bed_id, actor=current_user).room.shelter
            form = form_class(prefix=prefix)
            return act(lambda: Outcome(run(form, bed_id, current_user, utcnow()),
                                       board_location(shelter.id, f"bed-{bed_id}")),
                       form=form, fragment=on_board(shelter),
                       again=lambda status: render_panel(bed_id, status=status, failed={key: form}))

        view.__name__ = key
        bp.add_url_rule(f"/beds/<int:bed_id>/{slug}", key, requires("beds.act")(view), methods=["POST"])
        return run

    return register


@bed_action("check-in")
def check_in(form, bed_id, actor, now):
    stay = services.check_in(bed_id, services.CheckIn(
        resident_id=form.resident_id.data,
        new_arrival=ResidentInput(alias=form.new_alias.data or "", sex=form.new_sex.data,
                                  age_band=form.new_age_band.data, birth_year=form.new_birth_year.data),
        at=form.at.utc, override_reason=form.override_given(), confirm_backdate=bool(form.confirm_backdate.data),
    ), actor=actor, now=now)
    return _("%(alias)s checked in to bed %(bed)s.", alias=stay.resident.alias, bed=stay.bed.label)


@bed_action("hold")
def hold(form, bed_id, actor, now):
    held = services.place_hold(bed_id, form.expires_at.utc, form.note.data or "", actor=actor, at=now)
    return _("Bed %(bed)s is held.", bed=held.bed.label)


@bed_action("release-hold")
def release_hold(form, bed_id, actor, now):
    released = services.release_hold(bed_id, actor=actor, at=now)
    return _("The hold on bed %(bed)s is released.", bed=released.bed.label)


@bed_action("out-of-service")
def out_of_service(form, bed_id, actor, now):
    bed = services.set_out_of_service(bed_id, form.reason.data, form.until.utc, actor=actor, at=now)
    return _("Bed %(bed)s is out of service.", bed=bed.label)


@bed_action("in-service")
def in_service(form, bed_id, actor, now):
    return _("Bed %(bed)s is back in service.", bed=services.back_in_service(bed_id, actor=actor, at=now).label)


@bed_action("move")
def move(form, bed_id, actor, now):
    stay = services.move(bed_id, form.to_bed_id.data, actor=actor, now=now, override_reason=form.override_given())
    return _("%(alias)s moved to bed %(bed)s.", alias=stay.resident.alias, bed=stay.bed.label)


@bed_action("check-out")
def check_out(form, bed_id, actor, now):
    stay = services.check_out(bed_id, form.reason.data, form.destination.data or "", actor=actor, now=now)
    return _("%(alias)s checked out; bed %(bed)s is free.", alias=stay.resident.alias, bed=stay.bed.label)


@bed_action("isolate")
def isolate(form, bed_id, actor, now):
    isolation = services.isolate(bed_id, form.room_id.data, form.reason.data, form.note.data or "",
                                 form.expected_end_at.utc, actor=actor, now=now)
    return _("%(alias)s is in isolation in %(room)s.", alias=isolation.resident.alias, room=isolation.room.name)


@bed_action("end-isolation")
def end_isolation(form, bed_id, actor, now):
    isolation = services.end_isolation(bed_id, actor=actor, now=now)
    return _("Isolation of %(alias)s has ended.", alias=isolation.resident.alias)


# --- taking back one's own check-out or end of isolation (5 minutes) ----------------------------

UNDO = {
    "check_out": (services.undo_check_out, lambda row: _("The check-out of %(alias)s is undone.",
                                                           alias=row.resident.alias)),
    "end_isolation": (services.undo_end_isolation, lambda row: _("The isolation of %(alias)s goes on.",
                                                                 alias=row.resident.alias)),
}


@bp.post("/board/<int:shelter_id>/undo/<any(check_out, end_isolation):kind>/<int:item_id>")
@requires("beds.act")
def undo(shelter_id: int, kind: str, item_id: int):
    shelter = shelters.get_shelter(shelter_id, actor=current_user)
    form = ConfirmForm(prefix=f"undo{kind}{item_id}")
    reverse, message = UNDO[kind]
    return act(lambda: Outcome(message(reverse(item_id, actor=current_user, now=utcnow())),
                               board_location(shelter.id, "board")),
               form=form, fragment=on_board(shelter),
               again=lambda status: render_board(shelter, status=status, refusal=refusal_message()))

