"""Referrals: the case manager's pages, and the staff's answers on the bed board."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, request, url_for
from flask_babel import format_datetime, gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..auth.permissions import requires
from ..beds.routes import board_location, on_board, render_board
from ..errors import NotFound
from ..residents.services import ResidentInput
from ..shelters import services as shelters
from ..timeutil import utcnow
from ..web import Outcome, act, render
from . import services
from .forms import AcceptForm, ArrivalForm, CancelForm, DeclineForm, ReferralForm

bp = Blueprint("referrals", __name__, url_prefix="/referrals")


def _answer_minutes() -> int:
    return current_app.config["REFERRAL_ANSWER_MINUTES"]


# --- answers on the bed board ---------------------------------------------------------------

def _board_act(referral_ref: str, kind: str, form, perform):
    """An answer to a referral from a shelter's board, through the one action path.

    perform(referral, shelter) makes the one service call and returns the message. A refusal shows
    the board again with the message at the referral's form, what was typed kept.
    """
    referral = services.get_referral(referral_ref, actor=current_user)  # another shelter's: 404
    sent = form.shelter_id.row_id()  # the board it was sent from; an id that names nothing is not looked up
    try:
        shelter = shelters.get_shelter(sent, actor=current_user) if sent is not None else None
    except NotFound:
        shelter = None
    if shelter is None:
        if referral.shelter_id is None:
            raise NotFound(_("No such shelter."))
        shelter = shelters.get_shelter(referral.shelter_id, actor=current_user)
    return act(lambda: Outcome(perform(referral, shelter), board_location(shelter.id, "referrals")),
               form=form, fragment=on_board(shelter),
               again=lambda status: render_board(shelters.get_shelter(shelter.id, actor=current_user), status=status,
                                                 failed_referral={(referral_ref, kind): form}))


@bp.post("/<public:referral_ref>/accept")
@requires("referrals.answer")
def accept(referral_ref: str):
    form = AcceptForm(prefix=f"accept{referral_ref}")

    def perform(referral, shelter):
        hold = services.accept_referral(referral, shelter, actor=current_user, at=utcnow())
        return _("Referral %(code)s accepted: bed %(bed)s is held until %(until)s.", code=referral.code,
                 bed=hold.bed.label, until=_local(hold.expires_at))

    return _board_act(referral_ref, "accept", form, perform)


@bp.post("/<public:referral_ref>/decline")
@requires("referrals.answer")
def decline(referral_ref: str):
    form = DeclineForm(prefix=f"decline{referral_ref}")

    def perform(referral, shelter):
        services.decline_referral(referral, form.reason.data, form.note.data or "", shelter=shelter,
                                  actor=current_user, at=utcnow())
        return _("Referral %(code)s declined; the case manager sees your answer.", code=referral.code)

    return _board_act(referral_ref, "decline", form, perform)


@bp.post("/<public:referral_ref>/check-in")
@requires("referrals.answer")
def check_in(referral_ref: str):
    form = ArrivalForm(prefix=f"arrive{referral_ref}")

    def perform(referral, shelter):
        stay = services.check_in_from_referral(referral, ResidentInput(
            alias=form.alias.data, sex=form.sex.data, age_band=form.age_band.data,
            birth_year=form.birth_year.data), actor=current_user, now=utcnow())
        return _("%(alias)s checked in to bed %(bed)s (referral %(code)s).", alias=stay.resident.alias,
                 bed=stay.bed.label, code=referral.code)

    return _board_act(referral_ref, "arrive", form, perform)


def _local(value) -> str:
    return format_datetime(value, "short")


@bp.get("/inbox")
@requires("referrals.answer")
def inbox():
    now = utcnow()
    box = services.inbox(None, now, answer_minutes=_answer_minutes(), actor=current_user)
    return render("referrals/inbox.html", fragment="inbox", title=_("Referrals"), box=box, now=now,
                  overdue_ids=box.overdue_ids,
                  shelters=shelters.list_shelters(actor=current_user))


# --- the case manager's pages --------------------------------------------------------------

def _shelter_choices() -> list[SelectChoice]:
    return [SelectChoice("", _("Any shelter"))] + [SelectChoice(s.code_name, s.code_name)
                                                   for s in shelters.list_shelters()]


@bp.get("")
@requires("referrals.send")
def index():
    now = utcnow()
    referrals = services.list_for_organisation(current_user.organisation)
    holds = services.holds_of(referrals)
    return render("referrals/index.html", fragment="list", title=_("Referrals"), now=now,
                  rows=[(r, services.display_status(r, holds.get(r.id), now), holds.get(r.id)) for r in referrals])


@bp.route("/new", methods=["GET", "POST"])
@requires("referrals.send")
def new():
    form = ReferralForm()
    form.shelter.choices = _shelter_choices()
    status = 200
    if request.method == "GET":
        now = utcnow()
        form.shelter.data = request.args.get("shelter", "")
        form.arrival_from.set_utc(now)
        form.arrival_until.set_utc(now + timedelta(hours=4))
    else:
        def perform():
            referral = services.create_referral(services.ReferralInput(
                shelter=form.shelter.data or None, category=form.category.data, people=form.people.data,
                arrival_from=form.arrival_from.utc, arrival_until=form.arrival_until.utc,
                languages=form.languages.data or "", interpreter_needed=form.interpreter_needed.data,
                needs=tuple(form.needs.data or ()), note=form.note.data or "", code=form.code.data or ""),
                actor=current_user, at=utcnow())
            return Outcome(_("Referral %(code)s sent. The answer appears on this page.", code=referral.code),
                           url_for("referrals.show", referral_ref=referral.public_id))

        return act(perform, form=form, again=lambda status: _render_new(form, status))
    return _render_new(form, status)


def _render_new(form, status: int):
    return render("referrals/new.html", fragment="content", status=status, form=form,
                  organisation=current_user.organisation, title=_("Ask for a bed"))


@bp.get("/<public:referral_ref>")
@requires("referrals.send")
def show(referral_ref: str):
    referral = services.get_for_organisation(referral_ref, current_user.organisation)
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


@bp.post("/<public:referral_ref>/cancel")
@requires("referrals.send")
def cancel(referral_ref: str):
    referral = services.get_for_organisation(referral_ref, current_user.organisation)
    form = CancelForm()

    def perform():
        services.cancel_referral(referral, actor=current_user, at=utcnow())
        return Outcome(_("Referral %(code)s withdrawn.", code=referral.code),
                       url_for("referrals.show", referral_ref=referral.public_id))

    return act(perform, form=form, again=lambda status: _render_show(
        services.get_for_organisation(referral_ref, current_user.organisation), status=status, cancel_form=form))
