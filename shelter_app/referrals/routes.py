"""Referrals: the case manager's pages, and the staff's answers on the bed board."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask import Blueprint, current_app, flash, request
from flask_babel import format_datetime, gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..auth.access import roles_required, staff_required
from ..errors import DomainError, NotFound
from ..extensions import db
from ..residents import services as residents
from ..shelters import services as shelters
from ..shelters.routes import board_done, render_board
from ..timeutil import utcnow
from ..web import attach_error, render, see_other
from . import services
from .forms import (DECLINE_LABELS, NEED_LABELS, STATUS_LABELS, AcceptForm, ArrivalForm, CancelForm, DeclineForm,
                    ReferralForm)
from .models import Referral

bp = Blueprint("referrals", __name__, url_prefix="/referrals")


def _answer_minutes() -> int:
    return current_app.config["REFERRAL_ANSWER_MINUTES"]


@bp.app_context_processor
def _inject():
    return {"referral_labels": {"needs": NEED_LABELS, "decline": DECLINE_LABELS, "status": STATUS_LABELS},
            "referral_board": board_referrals}


# --- the bed board's referral block -------------------------------------------------------

@dataclass
class BoardItem:
    referral: Referral
    overdue: bool = False
    hold: object | None = None
    forms: dict = field(default_factory=dict)


@dataclass
class BoardReferrals:
    pending: list[BoardItem]
    expected: list[BoardItem]
    overdue: int
    waiting_elsewhere: int
    answer_minutes: int
    # Refusals about a referral no longer listed here (answered meanwhile, another shelter's): shown on top.
    notices: list[str] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return bool(self.pending or self.expected or self.waiting_elsewhere or self.notices)


def board_referrals(shelter, failed: dict | None = None) -> BoardReferrals:
    """The referral block of shelter's board, with fresh forms except a failed one (kept with its errors)."""
    failed = failed or {}
    now = utcnow()
    minutes = _answer_minutes()
    box = services.inbox(shelter, now, answer_minutes=minutes)

    def form(kind, cls, referral):
        key = (referral.id, kind)
        if key in failed:
            return failed[key]
        f = cls(prefix=f"{kind}{referral.id}", formdata=None)
        f.shelter_id.data = shelter.id
        return f

    pending = [BoardItem(r, overdue=services.is_overdue(r, now, minutes),
                         forms={"accept": form("accept", AcceptForm, r), "decline": form("decline", DeclineForm, r)})
               for r in box.pending]
    expected = [BoardItem(r, hold=box.holds.get(r.id), forms={"arrive": form("arrive", ArrivalForm, r)})
                for r in box.expected]
    listed = {r.id for r in box.pending} | {r.id for r in box.expected}
    notices = [message for (referral_id, _kind), f in failed.items() if referral_id not in listed
               for message in [*f.form_errors, *(e for errors in f.errors.values() for e in errors)]]
    return BoardReferrals(pending=pending, expected=expected, overdue=box.overdue,
                          waiting_elsewhere=box.waiting_elsewhere, answer_minutes=minutes, notices=notices)


def _board_act(referral_id: int, kind: str, form, action):
    """Validate form, run action(referral, shelter) (one service call returning a message), commit, answer.

    Success: the updated board (htmx) or a 303 back to it. Refusal: the board again with the message
    at the referral's form, 422/409, nothing saved and what was typed kept.
    """
    referral = services.get_referral(referral_id)
    try:
        shelter = shelters.get_shelter(int(request.form.get(f"{kind}{referral_id}-shelter_id", "")))
    except (ValueError, NotFound):
        if referral.shelter_id is None:
            raise NotFound(_("No such shelter.")) from None
        shelter = shelters.get_shelter(referral.shelter_id)
    status = 422
    if form.validate():
        try:
            message = action(referral, shelter)
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc)
            status = 422 if exc.status == 404 else exc.status
        else:
            return board_done(shelter, message, anchor="referrals")
    shelter = shelters.get_shelter(shelter.id)
    return render_board(shelter, status=status, referral_forms={(referral_id, kind): form})


@bp.post("/<int:referral_id>/accept")
@staff_required
def accept(referral_id: int):
    form = AcceptForm(prefix=f"accept{referral_id}")

    def action(referral, shelter):
        hold = services.accept_referral(referral, shelter, actor=current_user, at=utcnow())
        return _("Referral %(code)s accepted: bed %(bed)s is held until %(until)s.", code=referral.code,
                 bed=hold.bed.label, until=_local(hold.expires_at))

    return _board_act(referral_id, "accept", form, action)


@bp.post("/<int:referral_id>/decline")
@staff_required
def decline(referral_id: int):
    form = DeclineForm(prefix=f"decline{referral_id}")

    def action(referral, shelter):
        services.decline_referral(referral, form.reason.data, form.note.data or "", shelter=shelter,
                                  actor=current_user, at=utcnow())
        return _("Referral %(code)s declined; the case manager sees your answer.", code=referral.code)

    return _board_act(referral_id, "decline", form, action)


@bp.post("/<int:referral_id>/check-in")
@staff_required
def check_in(referral_id: int):
    form = ArrivalForm(prefix=f"arrive{referral_id}")

    def action(referral, shelter):
        now = utcnow()
        resident = residents.create_resident(residents.ResidentInput(
            alias=form.alias.data, sex=form.sex.data, age_band=form.age_band.data,
            birth_year=form.birth_year.data), actor=current_user, at=now)
        stay = services.check_in_from_referral(referral, resident, actor=current_user, at=now, now=now)
        return _("%(alias)s checked in to bed %(bed)s (referral %(code)s).", alias=resident.alias,
                 bed=stay.bed.label, code=referral.code)

    return _board_act(referral_id, "arrive", form, action)


def _local(value) -> str:
    return format_datetime(value, "short")


@bp.get("/inbox")
@staff_required
def inbox():
    now = utcnow()
    box = services.inbox(None, now, answer_minutes=_answer_minutes())
    return render("referrals/inbox.html", fragment="inbox", title=_("Referrals"), box=box, now=now,
                  overdue_ids={r.id for r in box.pending if services.is_overdue(r, now, _answer_minutes())},
                  shelters=shelters.list_shelters())


# --- the case manager's pages --------------------------------------------------------------

def _shelter_choices() -> list[SelectChoice]:
    return [SelectChoice("", _("Any shelter"))] + [SelectChoice(s.id, s.code_name) for s in shelters.list_shelters()]


@bp.get("")
@roles_required("casemanager")
def index():
    now = utcnow()
    referrals = services.list_for_organisation(current_user.organisation)
    holds = services.holds_of(referrals)
    return render("referrals/index.html", fragment="list", title=_("Referrals"), now=now,
                  rows=[(r, services.display_status(r, holds.get(r.id), now), holds.get(r.id)) for r in referrals])


@bp.route("/new", methods=["GET", "POST"])
@roles_required("casemanager")
def new():
    form = ReferralForm()
    form.shelter_id.choices = _shelter_choices()
    status = 200
    if request.method == "GET":
        now = utcnow()
        form.shelter_id.data = request.args.get("shelter_id", type=int)
        form.arrival_from.set_utc(now)
        form.arrival_until.set_utc(now + timedelta(hours=4))
    else:
        status = 422
        if form.validate():
            try:
                referral = services.create_referral(services.ReferralInput(
                    shelter_id=form.shelter_id.data, category=form.category.data, people=form.people.data,
                    arrival_from=form.arrival_from.utc, arrival_until=form.arrival_until.utc,
                    languages=form.languages.data or "", interpreter_needed=form.interpreter_needed.data,
                    needs=tuple(form.needs.data or ()), note=form.note.data or "", code=form.code.data or ""),
                    actor=current_user, at=utcnow())
            except DomainError as exc:
                db.session.rollback()
                attach_error(form, exc)
                status = 422 if exc.status == 404 else exc.status
            else:
                db.session.commit()
                flash(_("Referral %(code)s sent. The answer appears on this page.", code=referral.code), "success")
                return see_other("referrals.show", referral_id=referral.id)
    return render("referrals/new.html", fragment="content", status=status, form=form,
                  organisation=current_user.organisation, title=_("Ask for a bed"))


@bp.get("/<int:referral_id>")
@roles_required("casemanager")
def show(referral_id: int):
    referral = services.get_for_organisation(referral_id, current_user.organisation)
    return _render_show(referral)


def _poll_since(state: str, now) -> int | None:
    """When the page started asking for the answer, while it should go on asking; None to stop.

    Each poll counts as activity for the session, so polling stops after the session's idle time:
    a screen left alone must still be signed out.
    """
    if state != "pending":
        return None
    since = request.args.get("polling_since", type=int)
    started = int(now.timestamp()) if since is None else since
    if now.timestamp() - started >= current_app.config["SESSION_IDLE_MINUTES"] * 60:
        return None
    return started


def _render_show(referral, *, status: int = 200, cancel_form=None):
    now = utcnow()
    hold = services.holds_of([referral]).get(referral.id)
    state = services.display_status(referral, hold, now)
    return render("referrals/show.html", fragment="answer", status=status, title=referral.code, r=referral,
                  state=state, hold=hold, now=now, cancel_form=cancel_form or CancelForm(),
                  poll_since=_poll_since(state, now))


@bp.post("/<int:referral_id>/cancel")
@roles_required("casemanager")
def cancel(referral_id: int):
    referral = services.get_for_organisation(referral_id, current_user.organisation)
    form = CancelForm()
    status = 422
    if form.validate():
        try:
            services.cancel_referral(referral, actor=current_user, at=utcnow())
        except DomainError as exc:
            db.session.rollback()
            attach_error(form, exc)
            status = exc.status
        else:
            db.session.commit()
            flash(_("Referral %(code)s withdrawn.", code=referral.code), "success")
            return see_other("referrals.show", referral_id=referral.id)
    referral = services.get_for_organisation(referral_id, current_user.organisation)
    return _render_show(referral, status=status, cancel_form=form)
