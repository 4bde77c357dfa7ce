"""The bed board, a bed's panel and its actions, and shelter setup."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..auth.access import roles_required, staff_required
from ..errors import DomainError, NotFound
from ..extensions import db
from ..residents import services as residents
from ..timeutil import utcnow
from ..web import attach_error, error_field, is_fragment_request, render, see_other
from . import services
from .forms import (CATEGORY_LABELS, CHECKOUT_LABELS, GROUP_LABELS, ISOLATION_LABELS, KIND_LABELS, BedForm,
                    CheckInForm, CheckOutForm, EndIsolationForm, HoldForm, InServiceForm, IsolateForm, MoveForm,
                    OutOfServiceForm, ReleaseHoldForm, RoomForm, ShelterForm)

bp = Blueprint("board", __name__)

LABELS = {"category": CATEGORY_LABELS, "kind": KIND_LABELS, "group": GROUP_LABELS,
          "checkout": CHECKOUT_LABELS, "isolation": ISOLATION_LABELS}


@bp.app_context_processor
def _labels():
    # Translated once per page: a lazy string would be translated again for every bed.
    return {"labels": {group: {k: str(v) for k, v in values.items()} for group, values in LABELS.items()}}


# --- the board ---------------------------------------------------------------------------

@bp.get("/board")
@staff_required
def index():
    shelters = services.list_shelters()
    if not shelters:
        return render("board/empty.html", title=_("Beds"))
    remembered = session.get("shelter_id")
    shelter_id = remembered if any(s.id == remembered for s in shelters) else shelters[0].id
    return redirect(url_for("board.show", shelter_id=shelter_id))


def board_done(shelter, message: str, *, anchor: str):
    """After a successful action on the board: commit, then the updated board (htmx) or a 303 to it."""
    db.session.commit()
    if is_fragment_request():
        return render_board(shelter, message=message)
    flash(message, "success")
    return redirect(url_for("board.show", shelter_id=shelter.id) + f"#{anchor}", code=303)


def render_board(shelter, *, status: int = 200, message: str | None = None, **context):
    """The board of shelter; context reaches its blocks (e.g. the referral forms that failed)."""
    return render("board/board.html", fragment="board", status=status, title=_("Beds"),
                  board=services.board(shelter, utcnow()), shelters=services.list_shelters(), message=message,
                  **context)


@bp.get("/board/<int:shelter_id>")
@staff_required
def show(shelter_id: int):
    shelter = services.get_shelter(shelter_id)
    session["shelter_id"] = shelter.id
    return render_board(shelter)


# --- a bed's panel -----------------------------------------------------------------------

def _panel_context(bed, refusal: str | None = None, **forms):
    """What the panel of bed shows, with fresh forms except those passed in (carrying errors)."""
    now = utcnow()
    shelter = bed.room.shelter
    stay = services.open_stay_on(bed)
    hold = services.active_hold(bed, now)
    isolation = residents.open_isolation_of(stay.resident) if stay else None
    ctx = {"bed": bed, "stay": stay, "hold": hold, "isolation": isolation,
           "state": services.bed_state(bed, stay, hold, now), "title": _("Bed %(label)s", label=bed.label),
           "refusal": refusal}
    if stay is None:
        check_in = forms.get("check_in") or CheckInForm(prefix="ci")
        check_in.resident_id.choices = [SelectChoice("", _("— choose —"))] + [
            SelectChoice(r.id, f"{r.alias} · {r.code}") for r in residents.residents_without_bed()]
        ctx["check_in"] = check_in
        if hold is None and not bed.out_of_service_at(now):
            hold_form = forms.get("hold") or HoldForm(prefix="h")
            if hold_form.expires_at.data is None and not hold_form.expires_at.raw_data:
                hold_form.expires_at.set_utc(now + timedelta(hours=4))
            ctx["hold_form"] = hold_form
            ctx["out_form"] = forms.get("out") or OutOfServiceForm(prefix="o")
        ctx["release_form"] = ReleaseHoldForm(prefix="r")
        ctx["in_service_form"] = InServiceForm(prefix="s")
    else:
        move = forms.get("move") or MoveForm(prefix="m")
        move.to_bed_id.choices = [SelectChoice("", _("— choose —"))] + [
            SelectChoice(b.id, f"{b.room.name} · {b.label} ({CATEGORY_LABELS[b.category]})")
            for b in services.free_beds(shelter, now, exclude_bed_id=bed.id)]
        ctx["move_form"] = move
        ctx["check_out"] = forms.get("check_out") or CheckOutForm(prefix="co")
        if isolation is None:
            isolate = forms.get("isolate") or IsolateForm(prefix="is")
            isolate.room_id.choices = [SelectChoice(r.id, r.name) for r in services.free_isolation_rooms(shelter)]
            if isolate.expected_end_at.data is None and not isolate.expected_end_at.raw_data:
                isolate.expected_end_at.set_utc(now + timedelta(days=3))
            ctx["isolate_form"] = isolate
        else:
            ctx["end_isolation_form"] = EndIsolationForm(prefix="ei")
    return ctx


@bp.get("/beds/<int:bed_id>")
@staff_required
def bed(bed_id: int):
    return render("board/bed.html", fragment="panel", **_panel_context(services.get_bed(bed_id)))


def _act(bed_id: int, form_key: str, form, action):
    """Validate form, run action() (one service call returning a message), commit, answer.

    Success: the updated board (htmx) or a 303 back to it. Refusal: the bed's panel with the
    message at the field it concerns, 422/409, nothing saved and what was typed kept.
    """
    bed = services.get_bed(bed_id)
    shelter = bed.room.shelter
    status, refusal = 422, None
    if form.validate():
        try:
            message = action(bed)
        except DomainError as exc:
            db.session.rollback()
            if error_field(form, exc) is not None:
                attach_error(form, exc)
            else:
                # The bed may have changed under the form (someone else acted): say it at the top.
                refusal = exc.message
            status = 422 if exc.status == 404 else exc.status
        else:
            return board_done(shelter, message, anchor=f"bed-{bed_id}")
    bed = services.get_bed(bed_id)
    response = render("board/bed.html", fragment="panel", status=status,
                      **_panel_context(bed, refusal=refusal, **{form_key: form}))
    if is_fragment_request():
        response.headers["HX-Retarget"] = "#panel"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def _chosen(getter, field, message: str):
    """The row a select field picked; an id that names nothing is the field's error, not a 404."""
    try:
        return getter(field.data)
    except NotFound:
        raise DomainError(message, field=field.short_name) from None


@bp.post("/beds/<int:bed_id>/check-in")
@staff_required
def check_in(bed_id: int):
    form = CheckInForm(prefix="ci")

    def action(bed):
        now = utcnow()
        at = form.at.utc or now
        if form.resident_id.data:
            resident = _chosen(residents.get_resident, form.resident_id, _("Choose a resident from the list."))
        elif (form.new_alias.data or "").strip():
            resident = residents.create_resident(residents.ResidentInput(
                alias=form.new_alias.data, sex=form.new_sex.data, age_band=form.new_age_band.data,
                birth_year=form.new_birth_year.data), actor=current_user, at=now)
        else:
            raise DomainError(_("Choose a resident, or enter the alias of a new arrival."), field="resident_id")
        residents.check_in(bed, resident, actor=current_user, at=at, now=now)
        return _("%(alias)s checked in to bed %(bed)s.", alias=resident.alias, bed=bed.label)

    return _act(bed_id, "check_in", form, action)


@bp.post("/beds/<int:bed_id>/hold")
@staff_required
def hold(bed_id: int):
    form = HoldForm(prefix="h")

    def action(bed):
        services.place_hold(bed, form.expires_at.utc, form.note.data or "", actor=current_user, at=utcnow())
        return _("Bed %(bed)s is held.", bed=bed.label)

    return _act(bed_id, "hold", form, action)


@bp.post("/beds/<int:bed_id>/release-hold")
@staff_required
def release_hold(bed_id: int):
    form = ReleaseHoldForm(prefix="r")

    def action(bed):
        hold = services.active_hold(bed, utcnow())
        if hold is None:
            raise DomainError(_("This bed is not held (any more)."))
        services.release_hold(hold, actor=current_user, at=utcnow())
        return _("The hold on bed %(bed)s is released.", bed=bed.label)

    return _act(bed_id, "release", form, action)


@bp.post("/beds/<int:bed_id>/out-of-service")
@staff_required
def out_of_service(bed_id: int):
    form = OutOfServiceForm(prefix="o")

    def action(bed):
        services.set_out_of_service(bed, form.reason.data, form.until.utc, actor=current_user, at=utcnow())
        return _("Bed %(bed)s is out of service.", bed=bed.label)

    return _act(bed_id, "out", form, action)


@bp.post("/beds/<int:bed_id>/in-service")
@staff_required
def in_service(bed_id: int):
    form = InServiceForm(prefix="s")

    def action(bed):
        services.back_in_service(bed, actor=current_user, at=utcnow())
        return _("Bed %(bed)s is back in service.", bed=bed.label)

    return _act(bed_id, "in_service", form, action)


def _occupant(bed):
    stay = services.open_stay_on(bed)
    if stay is None:
        raise DomainError(_("Nobody is checked in to this bed (any more)."))
    return stay.resident


@bp.post("/beds/<int:bed_id>/move")
@staff_required
def move(bed_id: int):
    form = MoveForm(prefix="m")

    def action(bed):
        resident = _occupant(bed)
        to_bed = _chosen(services.get_bed, form.to_bed_id, _("Choose a bed from the list."))
        now = utcnow()
        residents.move(resident, to_bed, actor=current_user, at=now, now=now)
        return _("%(alias)s moved to bed %(bed)s.", alias=resident.alias, bed=to_bed.label)

    return _act(bed_id, "move", form, action)


@bp.post("/beds/<int:bed_id>/check-out")
@staff_required
def check_out(bed_id: int):
    form = CheckOutForm(prefix="co")

    def action(bed):
        resident = _occupant(bed)
        now = utcnow()
        residents.check_out(resident, form.reason.data, form.destination.data or "", actor=current_user,
                            at=now, now=now)
        return _("%(alias)s checked out; bed %(bed)s is free.", alias=resident.alias, bed=bed.label)

    return _act(bed_id, "check_out", form, action)


@bp.post("/beds/<int:bed_id>/isolate")
@staff_required
def isolate(bed_id: int):
    form = IsolateForm(prefix="is")

    def action(bed):
        resident = _occupant(bed)
        room = _chosen(services.get_room, form.room_id, _("Choose a room from the list."))
        now = utcnow()
        residents.isolate(resident, room, form.reason.data, form.note.data or "", form.expected_end_at.utc,
                          actor=current_user, at=now, now=now)
        return _("%(alias)s is in isolation in %(room)s.", alias=resident.alias, room=room.name)

    return _act(bed_id, "isolate", form, action)


@bp.post("/beds/<int:bed_id>/end-isolation")
@staff_required
def end_isolation(bed_id: int):
    form = EndIsolationForm(prefix="ei")

    def action(bed):
        resident = _occupant(bed)
        isolation = residents.open_isolation_of(resident)
        if isolation is None:
            raise DomainError(_("%(alias)s is not in isolation.", alias=resident.alias))
        now = utcnow()
        residents.end_isolation(isolation, actor=current_user, at=now, now=now)
        return _("Isolation of %(alias)s has ended.", alias=resident.alias)

    return _act(bed_id, "end_isolation", form, action)


# --- setup (managers) --------------------------------------------------------------------

@bp.route("/shelters", methods=["GET", "POST"])
@roles_required("manager")
def shelters():
    form = ShelterForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            try:
                shelter = services.create_shelter(form.code_name.data, form.name.data, form.address.data or "",
                                                  actor=current_user, at=utcnow())
            except DomainError as exc:
                db.session.rollback()
                attach_error(form, exc)
                status = exc.status if exc.status != 404 else 422
            else:
                db.session.commit()
                flash(_("Shelter %(name)s added.", name=shelter.name), "success")
                return see_other("board.shelter_setup", shelter_id=shelter.id)
    return render("board/shelters.html", fragment="content", status=status, form=form,
                  shelters=services.list_shelters(), title=_("Shelters"))


@bp.route("/shelters/<int:shelter_id>", methods=["GET", "POST"])
@roles_required("manager")
def shelter_setup(shelter_id: int):
    shelter = services.get_shelter(shelter_id)
    forms = {
        "shelter": ShelterForm(prefix="s", obj=shelter),
        "room": RoomForm(prefix="room"),
        "bed": BedForm(prefix="bed"),
    }
    forms["bed"].room_id.choices = [SelectChoice(r.id, r.name) for r in shelter.rooms if not r.is_isolation]
    status = 200
    if request.method == "POST":
        key = request.form.get("action", "")
        form = forms.get(key)
        status = 422
        if form is None:
            flash(_("Unknown action."), "error")
        elif form.validate():
            now = utcnow()
            try:
                if key == "shelter":
                    services.update_shelter(shelter, form.code_name.data, form.name.data, form.address.data or "",
                                            actor=current_user, at=now)
                    message = _("Saved.")
                elif key == "room":
                    room = services.create_room(shelter, form.name.data, form.kind.data, form.room_group.data,
                                                actor=current_user, at=now)
                    message = _("Room %(name)s added.", name=room.name)
                else:
                    room = services.get_room(form.room_id.data)
                    if room.shelter_id != shelter.id:
                        raise DomainError(_("Choose a room of this shelter."), field="room_id")
                    bed = services.create_bed(room, form.label.data, form.category.data, actor=current_user, at=now)
                    message = _("Bed %(label)s added to %(room)s.", label=bed.label, room=room.name)
            except DomainError as exc:
                db.session.rollback()
                attach_error(form, exc)
                status = exc.status if exc.status != 404 else 422
            else:
                db.session.commit()
                flash(message, "success")
                return see_other("board.shelter_setup", shelter_id=shelter.id)
        shelter = services.get_shelter(shelter_id)
    return render("board/shelter_setup.html", fragment="content", status=status, shelter=shelter,
                  board=services.board(shelter, utcnow()), forms=forms, title=shelter.name)
