"""The shift page, handovers and their entries, tasks, the night round, presence, shift setup and the history.

Entries, incidents, observations and round records may come from a phone's outbox (static/js/outbox.js):
sent with `Accept: application/json` and an `Idempotency-Key`, they are answered in JSON, and the same
key answers what it answered the first time (web.act).
"""
from __future__ import annotations

from datetime import timedelta

from flask import jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..auth.permissions import can, requires
from ..errors import DomainError
from ..shelters import services as shelters
from ..timeutil import to_local, utcnow
from ..web import Outcome, act, audited_read, refusal_message, render
from . import bp, services
from .forms import (ConfirmForm, CorrectionForm, DayForm, DutyForm, EditEntryForm, EntryForm, HandOverForm,
                    HeadcountForm, HistoryForm, IncidentForm, MissingForm, ObservationForm, OutForm, RoomCheckForm,
                    TaskForm, TimesForm)
from .vocab import HISTORY_DEFAULT_DAYS, EntryKind, RoomStatus

# --- the outbox's answers --------------------------------------------------------------------------


def wants_json() -> bool:
    """The phone's outbox asks for JSON; a browser's form (and htmx) for a page."""
    return request.accept_mimetypes.best == "application/json"


def client_key() -> str | None:
    """The key an entry is stored under: the form's one-time token, or the outbox's Idempotency-Key."""
    return (request.form.get("form_token") or request.headers.get("Idempotency-Key") or "").strip() or None


def _json_done(outcome: Outcome):
    return jsonify({"ok": True, "message": outcome.message, "location": outcome.location})


def _json_refused(form, status: int):
    errors = {f.name: [str(e) for e in f.errors] for f in form if f.errors}
    messages = [str(e) for e in form.form_errors] + [m for ms in errors.values() for m in ms]
    response = jsonify({"ok": False, "message": refusal_message() or " ".join(messages), "errors": errors})
    response.status_code = status
    return response


def outbox_act(perform, *, form, again):
    """web.act for a form the outbox may send: JSON to the outbox, the page (or a 303) to a browser."""
    if wants_json():
        return act(perform, form=form, done=_json_done, again=lambda status: _json_refused(form, status))
    return act(perform, form=form, again=again)


def _shelter(shelter_id: int):
    shelter = shelters.get_shelter(shelter_id, actor=current_user)
    session["shelter_id"] = shelter.id
    return shelter


def _resident_choices(residents, blank: str | None = None) -> list[SelectChoice]:
    options = [SelectChoice(r.id, f"{r.alias} · {s.bed.room.name}/{s.bed.label}") for r, s in residents]
    return ([SelectChoice("", blank)] if blank is not None else []) + options


def shift_url(shelter_id: int, anchor: str = "") -> str:
    return url_for("handovers.shift", shelter_id=shelter_id) + (f"#{anchor}" if anchor else "")


# --- the shift page --------------------------------------------------------------------------------

@bp.get("/shift")
@requires("handovers.view")
def index():
    mine = shelters.list_shelters(actor=current_user)
    if not mine:
        return render("beds/empty.html", title=_("Shift"), no_shelter=shelters.first_shelter_id() is not None)
    remembered = session.get("shelter_id")
    shelter_id = remembered if any(s.id == remembered for s in mine) else mine[0].id
    return redirect(url_for("handovers.shift", shelter_id=shelter_id))


def _shift_forms(page, failed: dict) -> dict:
    now = utcnow()
    forms = {
        "entry": EntryForm(prefix="e", formdata=None), "incident": IncidentForm(prefix="i", formdata=None),
        "task": TaskForm(prefix="t", formdata=None), "hand_over": HandOverForm(prefix="h", formdata=None),
        "duty": ConfirmForm(prefix="duty", formdata=None),
    }
    forms.update(failed)
    forms["entry"].resident_id.choices = _resident_choices(page.residents, _("— choose —"))
    forms["incident"].resident_id.choices = _resident_choices(page.residents, _("— nobody in particular —"))
    forms["task"].owner_id.choices = [SelectChoice("", _("— choose —"))] + [
        SelectChoice(u.id, f"{u.display_name} ({_role(u.role)})") for u in page.staff]
    if forms["task"].due_at.data is None and not forms["task"].due_at.raw_data:
        forms["task"].due_at.set_utc(page.shift.ends_at)
    if "hand_over" not in failed:
        forms["hand_over"].handover_id.data = page.writing.handover.id if page.writing else None
    forms["ack"] = {v.handover.id: ConfirmForm(prefix=f"ack{v.handover.id}", formdata=None) for v in page.waiting}
    forms["done"] = {t.id: ConfirmForm(prefix=f"done{t.id}", formdata=None) for t in page.tasks}
    forms["now"] = now
    return forms


def _role(role: str) -> str:
    from ..labels import labels

    return labels.role.get(role, role)


def render_shift(shelter, *, status: int = 200, failed: dict | None = None, message: str | None = None,
                 refusal: str | None = None, fragment: str | None = None):
    """The shift page of shelter (for an htmx action: its #shift-top fragment)."""
    now = utcnow()
    page = services.shift_page(shelter, now, actor=current_user)
    return audited_read(render(
        "handovers/shift.html", fragment=fragment, status=status, title=_("Shift"), page=page, now=now,
        forms=_shift_forms(page, failed or {}), shelters=shelters.list_shelters(actor=current_user),
        message=message, refusal=refusal or (" ".join(m for f in (failed or {}).values() for m in f.form_errors)
                                             or None)))


def on_shift(shelter):
    return lambda outcome: render_shift(shelter, message=outcome.message, fragment="top")


@bp.get("/shift/<int:shelter_id>")
@requires("handovers.view")
def shift(shelter_id: int):
    return render_shift(_shelter(shelter_id))


@bp.post("/shift/<int:shelter_id>/on-duty")
@requires("handovers.write")
def take_shift(shelter_id: int):
    shelter = _shelter(shelter_id)
    form = ConfirmForm(prefix="duty")

    def perform():
        taken = services.take_current_shift(shelter, actor=current_user, at=utcnow())
        return Outcome(_("You are on the rota of this shift (until %(t)s).",
                         t=to_local(taken.ends_at).strftime("%H:%M")), shift_url(shelter.id, "shift-top"))

    return act(perform, form=form, fragment=on_shift(shelter),
               again=lambda status: render_shift(shelter, status=status, refusal=refusal_message(), fragment="top"))


def _entry_outcome(entry, message: str) -> Outcome:
    return Outcome(message, shift_url(entry.shelter_id, f"entry-{entry.id}"))


@bp.post("/shift/<int:shelter_id>/entries")
@requires("handovers.write")
def add_entry(shelter_id: int):
    shelter = _shelter(shelter_id)
    form = EntryForm(prefix="e")

    def perform():
        entry = services.add_entry(shelter, services.EntryInput(
            kind=EntryKind.RESIDENT, text=form.text.data, resident_id=form.resident_id.data),
            actor=current_user, at=utcnow(), client_key=client_key())
        return _entry_outcome(entry, _("Entry about %(alias)s added to the handover.", alias=entry.resident.alias))

    return outbox_act(perform, form=form, again=lambda status: render_shift(shelter, status=status,
                                                                            failed={"entry": form}))


@bp.post("/shift/<int:shelter_id>/incidents")
@requires("handovers.write")
def add_incident(shelter_id: int):
    shelter = _shelter(shelter_id)
    form = IncidentForm(prefix="i")
    back_to_rounds = request.args.get("from") == "rounds"

    def perform():
        entry = services.add_entry(shelter, services.EntryInput(
            kind=EntryKind.INCIDENT, incident_kind=form.incident_kind.data, occurred_at=form.occurred_at.utc,
            resident_id=form.resident_id.data, text=form.text.data, action_taken=form.action_taken.data or ""),
            actor=current_user, at=utcnow(), client_key=client_key())
        outcome = _entry_outcome(entry, _("Incident recorded in the handover."))
        if back_to_rounds:
            outcome.location = url_for("handovers.rounds", shelter_id=shelter.id)
        return outcome

    def again(status):
        if back_to_rounds:
            return render_rounds(shelter, status=status, failed={"incident": form})
        return render_shift(shelter, status=status, failed={"incident": form})

    return outbox_act(perform, form=form, again=again)


@bp.post("/shift/<int:shelter_id>/tasks")
@requires("handovers.write")
def add_task(shelter_id: int):
    shelter = _shelter(shelter_id)
    form = TaskForm(prefix="t")

    def perform():
        task = services.add_task(shelter, form.text.data, form.owner_id.data, form.due_at.utc, actor=current_user,
                                 at=utcnow(), client_key=client_key())
        return Outcome(_("Task for %(name)s added.", name=task.owner.display_name), shift_url(shelter.id, "tasks"))

    return act(perform, form=form, again=lambda status: render_shift(shelter, status=status, failed={"task": form}))


@bp.post("/handovers/tasks/<int:task_id>/done")
@requires("handovers.write")
def complete_task(task_id: int):
    task = services.get_task(task_id, actor=current_user)
    shelter = _shelter(task.shelter_id)
    form = ConfirmForm(prefix=f"done{task_id}")
    return act(lambda: Outcome(_("Done: %(text)s", text=services.complete_task(task_id, actor=current_user,
                                                                               at=utcnow()).text),
                               shift_url(shelter.id, "tasks")),
               form=form, fragment=on_shift(shelter),
               again=lambda status: render_shift(shelter, status=status, refusal=refusal_message(), fragment="top"))


@bp.post("/shift/<int:shelter_id>/hand-over")
@requires("handovers.write")
def hand_over(shelter_id: int):
    shelter = _shelter(shelter_id)
    form = HandOverForm(prefix="h")

    def perform():
        services.hand_over(shelter, form.note.data, form.handover_id.row_id(), actor=current_user, at=utcnow())
        return Outcome(_("Handed over. The next shift sees it when they open the app."), shift_url(shelter.id))

    return act(perform, form=form, again=lambda status: render_shift(shelter, status=status,
                                                                     failed={"hand_over": form}))


@bp.post("/handovers/<int:handover_id>/acknowledge")
@requires("handovers.write")
def acknowledge(handover_id: int):
    handover = services.get_handover(handover_id, actor=current_user)
    shelter = _shelter(handover.shelter_id)
    form = ConfirmForm(prefix=f"ack{handover_id}")

    def perform():
        services.acknowledge(handover_id, actor=current_user, at=utcnow())
        return Outcome(_("You have read the handover."), shift_url(shelter.id))

    return act(perform, form=form, fragment=on_shift(shelter),
               again=lambda status: render_shift(shelter, status=status, refusal=refusal_message(), fragment="top"))


# --- one entry: see it, change one's own while it may, correct it ---------------------------------------

def _render_entry(entry_id: int, *, status: int = 200, failed: dict | None = None):
    now = utcnow()
    entry, corrections = services.entry_page(entry_id, actor=current_user, at=now)
    failed = failed or {}
    edit = failed.get("edit") or EditEntryForm(prefix="ed", formdata=None, text=entry.text,
                                               action_taken=entry.action_taken)
    correct = failed.get("correct") or CorrectionForm(prefix="co", formdata=None,
                                                      text=entry.text if entry.text else "")
    return audited_read(render("handovers/entry.html", status=status, title=_("Handover entry"), entry=entry,
                               corrections=corrections, may_edit=services.may_edit(entry, current_user, now),
                               final=services.is_final(entry, entry.handover, now), edit_form=edit,
                               correct_form=correct, refusal=refusal_message()))


@bp.get("/handovers/entries/<int:entry_id>")
@requires("handovers.view")
def entry(entry_id: int):
    return _render_entry(entry_id)


@bp.post("/handovers/entries/<int:entry_id>/edit")
@requires("handovers.write")
def edit_entry(entry_id: int):
    services.get_entry(entry_id, actor=current_user)
    form = EditEntryForm(prefix="ed")

    def perform():
        changed = services.edit_entry(entry_id, form.text.data, form.action_taken.data or "", actor=current_user,
                                      at=utcnow())
        return _entry_outcome(changed, _("Entry changed."))

    return act(perform, form=form, again=lambda status: _render_entry(entry_id, status=status,
                                                                      failed={"edit": form}))


@bp.post("/handovers/entries/<int:entry_id>/correct")
@requires("handovers.write")
def correct_entry(entry_id: int):
    services.get_entry(entry_id, actor=current_user)
    form = CorrectionForm(prefix="co")

    def perform():
        correction = services.correct_entry(entry_id, form.text.data, form.action_taken.data or "",
                                            actor=current_user, at=utcnow(), client_key=client_key())
        return _entry_outcome(correction, _("Correction added to the handover; the entry it corrects stays as it was."))

    return outbox_act(perform, form=form, again=lambda status: _render_entry(entry_id, status=status,
                                                                             failed={"correct": form}))


# --- observations, from a resident's page ----------------------------------------------------------------

def resident_part(resident) -> dict:
    """What a resident's page shows of the handovers: the entries about them, and an observation form."""
    if not can(current_user, "handovers.view"):
        return {"resident_entries": [], "observation_form": None}
    return {"resident_entries": services.entries_about(resident),
            "observation_form": ObservationForm(prefix="ob", formdata=None)}


@bp.post("/handovers/residents/<int:resident_id>/observations")
@requires("handovers.write")
def add_observation(resident_id: int):
    from ..residents.services import get_resident

    resident = get_resident(resident_id, actor=current_user)
    form = ObservationForm(prefix="ob")

    def perform():
        entry = services.add_observation(resident.id, form.text.data, form.observed_at.utc, actor=current_user,
                                         at=utcnow(), client_key=client_key())
        return Outcome(_("Observation about %(alias)s added to the handover.", alias=resident.alias),
                       url_for("residents.show", resident_id=resident.id) + f"#entry-{entry.id}")

    return outbox_act(perform, form=form, again=lambda status: render(
        "handovers/observation.html", status=status, title=_("Observation"), resident=resident, form=form,
        refusal=refusal_message()))


# --- the night round -----------------------------------------------------------------------------------

def render_rounds(shelter, *, status: int = 200, failed: dict | None = None):
    now = utcnow()
    page = services.rounds_page(shelter, now, actor=current_user)
    failed = failed or {}
    due = services.epoch_minutes(page.current.due_at) if page.current else None
    checks = {c.room_id: c for c in (page.current.round.checks if page.current and page.current.round else [])}
    rooms = {}
    for room in page.rooms:
        form = failed.get(f"room{room.id}") or RoomCheckForm(prefix=f"r{room.id}", formdata=None)
        form.due.data = due
        rooms[room.id] = form
    headcount = failed.get("headcount") or HeadcountForm(prefix="hc", formdata=None)
    headcount.due.data = due
    incident = failed.get("incident") or IncidentForm(prefix="i", formdata=None)
    incident.resident_id.choices = _resident_choices(page.residents, _("— nobody in particular —"))
    refusal = " ".join(m for f in failed.values() for m in f.form_errors) or refusal_message()
    return audited_read(render("handovers/rounds.html", status=status, title=_("Night round"), page=page, now=now,
                               room_forms=rooms, checks=checks, headcount_form=headcount, incident_form=incident,
                               refusal=refusal))


@bp.get("/shift/<int:shelter_id>/rounds")
@requires("handovers.view")
def rounds(shelter_id: int):
    return render_rounds(_shelter(shelter_id))


@bp.post("/handovers/rooms/<int:room_id>/round")
@requires("rounds.record")
def record_room(room_id: int):
    room = services.get_room(room_id, actor=current_user)
    shelter = _shelter(room.shelter_id)
    form = RoomCheckForm(prefix=f"r{room_id}")

    def perform():
        check = services.record_room(shelter, form.due.data, room.id, form.status.data, form.note.data or "",
                                     actor=current_user, at=utcnow(), client_key=client_key())
        return Outcome(_("Room %(room)s: %(status)s.", room=room.name, status=RoomStatus(check.status).label),
                       url_for("handovers.rounds", shelter_id=shelter.id) + f"#room-{room.id}")

    return outbox_act(perform, form=form, again=lambda status: render_rounds(shelter, status=status,
                                                                             failed={f"room{room.id}": form}))


@bp.post("/shift/<int:shelter_id>/rounds/headcount")
@requires("rounds.record")
def record_headcount(shelter_id: int):
    shelter = _shelter(shelter_id)
    form = HeadcountForm(prefix="hc")

    def perform():
        the_round = services.record_headcount(shelter, form.due.data, form.headcount.data, actor=current_user,
                                              at=utcnow(), client_key=client_key())
        if the_round.mismatch:
            message = _("Headcount %(n)d recorded. The app has %(e)d residents in the house: the manager is told.",
                        n=the_round.headcount, e=the_round.expected)
        else:
            message = _("Headcount %(n)d recorded; it matches.", n=the_round.headcount)
        return Outcome(message, url_for("handovers.rounds", shelter_id=shelter.id) + "#headcount")

    return outbox_act(perform, form=form, again=lambda status: render_rounds(shelter, status=status,
                                                                             failed={"headcount": form}))


# --- presence --------------------------------------------------------------------------------------------

def render_presence(shelter, *, status: int = 200, failed: dict | None = None, message: str | None = None,
                    fragment: str | None = None):
    now = utcnow()
    page = services.presence_page(shelter, now, actor=current_user)
    failed = failed or {}
    out_forms = {}
    for resident, _stay in page.presence.inside:
        form = failed.get(f"out{resident.id}") or OutForm(prefix=f"out{resident.id}", formdata=None)
        if form.expected_back_at.data is None and not form.expected_back_at.raw_data:
            form.expected_back_at.set_utc(now + timedelta(hours=2))
        out_forms[resident.id] = form
    missing = {r.id: failed.get(f"miss{r.id}") or MissingForm(prefix=f"miss{r.id}", formdata=None)
               for r, _s in page.presence.inside}
    back = {o.resident_id: ConfirmForm(prefix=f"back{o.resident_id}", formdata=None) for o, _s in page.presence.out}
    refusal = " ".join(m for f in failed.values() for m in f.form_errors) or refusal_message()
    return audited_read(render("handovers/presence.html", fragment=fragment, status=status,
                               title=_("Who is in the house"), page=page, now=now, out_forms=out_forms,
                               missing_forms=missing, back_forms=back, message=message, refusal=refusal))


def _presence_action(resident_id: int, key: str, form, run):
    shelter = _shelter(services.shelter_of_resident(resident_id, actor=current_user).id)
    return act(lambda: Outcome(run(), url_for("handovers.presence", shelter_id=shelter.id)),
               form=form, fragment=lambda outcome: render_presence(shelter, message=outcome.message,
                                                                   fragment="presence"),
               again=lambda status: render_presence(shelter, status=status, failed={key: form},
                                                    fragment="presence"))


@bp.get("/shift/<int:shelter_id>/presence")
@requires("handovers.view")
def presence(shelter_id: int):
    return render_presence(_shelter(shelter_id))


@bp.post("/handovers/residents/<int:resident_id>/out")
@requires("presence.record")
def go_out(resident_id: int):
    form = OutForm(prefix=f"out{resident_id}")

    def run():
        outing = services.go_out(resident_id, form.expected_back_at.utc, actor=current_user, at=utcnow())
        return _("%(alias)s is out, expected back at %(t)s.", alias=outing.resident.alias,
                 t=to_local(outing.expected_back_at).strftime("%H:%M"))

    return _presence_action(resident_id, f"out{resident_id}", form, run)


@bp.post("/handovers/residents/<int:resident_id>/missing")
@requires("presence.record")
def gone_without_notice(resident_id: int):
    form = MissingForm(prefix=f"miss{resident_id}")

    def run():
        entry = services.gone_without_notice(resident_id, form.note.data or "", actor=current_user, at=utcnow())
        return _("%(alias)s is recorded as gone without notice; a safety incident is in the handover and the "
                 "manager on call is told.", alias=entry.resident.alias)

    return _presence_action(resident_id, f"miss{resident_id}", form, run)


@bp.post("/handovers/residents/<int:resident_id>/back")
@requires("presence.record")
def come_back(resident_id: int):
    form = ConfirmForm(prefix=f"back{resident_id}")

    def run():
        outing = services.come_back(resident_id, actor=current_user, at=utcnow())
        return _("%(alias)s is back.", alias=outing.resident.alias)

    return _presence_action(resident_id, f"back{resident_id}", form, run)


# --- shift times, curfew, round times and the rota -----------------------------------------------------------

def render_setup(shelter, *, status: int = 200, failed: dict | None = None):
    now = utcnow()
    times = services.times_of(shelter.id)
    failed = failed or {}
    times_form = failed.get("times") or TimesForm(
        formdata=None, day_starts=services.minutes_text(times.day_starts),
        night_starts=services.minutes_text(times.night_starts), curfew=services.minutes_text(times.curfew),
        rounds=", ".join(services.minutes_text(m) for m in services.in_night_order(times)))
    duty_form = failed.get("duty") or DutyForm(prefix="d", formdata=None, shift_date=to_local(now).date())
    staff = services.staff_of(shelter)
    duty_form.user_id.choices = [SelectChoice("", _("— choose —"))] + [
        SelectChoice(u.id, f"{u.display_name} ({_role(u.role)})") for u in staff]
    shifts = services.rota(shelter, times, now)
    remove = {d.id: ConfirmForm(prefix=f"rm{d.id}", formdata=None) for s in shifts for d in s.duties}
    return render("handovers/setup.html", status=status, title=_("Shifts and rounds"), shelter=shelter, times=times,
                  times_form=times_form, duty_form=duty_form, rota=shifts, remove_forms=remove,
                  refusal=refusal_message())


@bp.route("/shift/<int:shelter_id>/setup", methods=["GET", "POST"])
@requires("shifts.manage")
def setup(shelter_id: int):
    shelter = _shelter(shelter_id)
    if request.method == "GET":
        return render_setup(shelter)
    form = TimesForm()

    def perform():
        services.set_times(shelter, day_starts=form.day_starts.data, night_starts=form.night_starts.data,
                           curfew=form.curfew.data, rounds=form.rounds.data or "", actor=current_user, at=utcnow())
        return Outcome(_("Shift times saved."), url_for("handovers.setup", shelter_id=shelter.id))

    return act(perform, form=form, again=lambda status: render_setup(shelter, status=status, failed={"times": form}))


@bp.post("/shift/<int:shelter_id>/duties")
@requires("shifts.manage")
def assign_duty(shelter_id: int):
    shelter = _shelter(shelter_id)
    form = DutyForm(prefix="d")

    def perform():
        duty = services.assign_duty(shelter, form.user_id.data, form.shift_date.data, form.shift_kind.data,
                                    actor=current_user, at=utcnow())
        return Outcome(_("%(name)s is on the rota.", name=duty.user.display_name),
                       url_for("handovers.setup", shelter_id=shelter.id) + "#rota")

    return act(perform, form=form, again=lambda status: render_setup(shelter, status=status, failed={"duty": form}))


@bp.post("/handovers/duties/<int:duty_id>/remove")
@requires("shifts.manage")
def remove_duty(duty_id: int):
    duty = services.get_duty(duty_id, actor=current_user)
    shelter = _shelter(duty.shelter_id)
    form = ConfirmForm(prefix=f"rm{duty_id}")

    def perform():
        removed = services.remove_duty(duty_id, actor=current_user, at=utcnow())
        return Outcome(_("%(name)s is off the rota of that shift.", name=removed.user.display_name),
                       url_for("handovers.setup", shelter_id=shelter.id) + "#rota")

    return act(perform, form=form, again=lambda status: render_setup(shelter, status=status))


# --- history and a printed day ---------------------------------------------------------------------------------

@bp.get("/handovers/history")
@requires("handovers.view")
def history():
    now = utcnow()
    mine = shelters.list_shelters(actor=current_user)
    form = HistoryForm(formdata=request.args)
    form.shelter_id.choices = [SelectChoice("", _("All my shelters"))] + [SelectChoice(s.id, s.name) for s in mine]
    form.resident_id.choices = [SelectChoice("", _("Everyone"))]
    found, status = None, 200
    if form.validate():
        try:
            chosen = [s for s in mine if form.shelter_id.data in (None, s.id)]
            if not chosen and mine:
                raise DomainError(_("Choose a shelter from the list."), field="shelter_id")
            residents = services.history_residents([s.id for s in chosen])
            form.resident_id.choices += [SelectChoice(r.id, f"{r.alias} · {r.code}") for r in residents]
            if form.resident_id.data is not None and form.resident_id.data not in {r.id for r in residents}:
                raise DomainError(_("Choose a resident from the list."), field="resident_id")
            day_from, day_to = services.history_range(form.day_from.data, form.day_to.data, to_local(now).date(),
                                                      HISTORY_DEFAULT_DAYS)
            form.day_from.data, form.day_to.data = day_from, day_to
            start, end = services.day_bounds(day_from, day_to)
            found = services.history(services.HistoryFilter(
                shelter_ids=[s.id for s in chosen], start=start, end=end, kind=form.kind.data or None,
                resident_id=form.resident_id.data), actor=current_user, at=now)
        except DomainError as exc:
            from ..web import attach_error

            attach_error(form, exc)
            status = 422
    else:
        status = 422
    return audited_read(render("handovers/history.html", fragment="results", status=status, title=_("History"),
                               form=form, found=found, shelters={s.id: s for s in mine}, now=now))


@bp.get("/shift/<int:shelter_id>/print")
@requires("handovers.oversee")
def print_day(shelter_id: int):
    now = utcnow()
    shelter = _shelter(shelter_id)
    form = DayForm(formdata=request.args)
    day = to_local(now).date()
    if form.validate() and form.day.data is not None:
        day = form.day.data
    elif form.errors:
        return render("handovers/print.html", status=422, title=_("Print a day"), form=form, shelter=shelter,
                      printed=None)
    form.day.data = day
    printed = services.printed_day(shelter, day, actor=current_user, at=now)
    return audited_read(render("handovers/print.html", title=_("Print a day"), form=form, shelter=shelter,
                               printed=printed, may_print=can(current_user, "handovers.oversee")))
