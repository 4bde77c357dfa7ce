"""Residents: list and search, the record, and the history page."""
from __future__ import annotations

from flask import Blueprint, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..auth.permissions import can, requires
from ..beds import services as beds
from ..handovers.routes import resident_part as handover_part
from ..shelters import services as shelters
from ..timeutil import utcnow
from ..web import Outcome, act, audited_read, render
from . import services
from .forms import NewResidentForm, ResidentForm, SearchForm

bp = Blueprint("residents", __name__, url_prefix="/residents")


def _input(form: ResidentForm) -> services.ResidentInput:
    identity = can(current_user, "resident.identity")
    return services.ResidentInput(
        alias=form.alias.data or "", sex=form.sex.data, age_band=form.age_band.data,
        birth_year=form.birth_year.data, country_of_origin=form.country_of_origin.data or "",
        languages=form.languages.data or "", interpreter_needed=form.interpreter_needed.data,
        exploitation_forms=tuple(form.exploitation_forms.data or ()), dietary_needs=form.dietary_needs.data or "",
        allergies=form.allergies.data or "", notes=form.notes.data or "",
        legal_name=form.legal_name.data if identity else None,
        document_data=form.document_data.data if identity else None,
    )


@bp.get("")
@requires("residents.view")
def index():
    search = SearchForm(request.args)
    if not search.validate():  # too long: said at the field, with what was typed; nobody is shown
        return render("residents/index.html", fragment="results", status=422, title=_("Residents"),
                      q=request.args.get("q", ""), q_error=" ".join(search.q.errors), page=None)
    page = services.residents_list(search.q.data or "", actor=current_user, at=utcnow())
    return audited_read(render("residents/index.html", fragment="results", title=_("Residents"), q=page.query,
                               page=page))


def _render_form(form, resident, status: int = 200):
    return render("residents/form.html", fragment="content", status=status, form=form, resident=resident,
                  title=resident.alias if resident else _("New resident"))


@bp.route("/new", methods=["GET", "POST"])
@requires("residents.create")
def new():
    form = NewResidentForm()
    mine = shelters.list_shelters(actor=current_user)
    form.shelter_id.choices = [SelectChoice(s.id, s.name) for s in mine]
    if form.shelter_id.data is None and mine:
        # The shelter whose board the user was on, else their first.
        remembered = session.get("shelter_id")
        form.shelter_id.data = remembered if any(s.id == remembered for s in mine) else mine[0].id
    if request.method == "GET":
        return _render_form(form, None)

    def perform():
        data = _input(form)
        data.shelter_id = form.shelter_id.data
        resident = services.create_resident(data, actor=current_user, at=utcnow())
        return Outcome(_("%(alias)s added with code %(code)s.", alias=resident.alias, code=resident.code),
                       url_for("residents.show", resident_id=resident.id))

    return act(perform, form=form, again=lambda status: _render_form(form, None, status))


@bp.get("/<int:resident_id>")
@requires("residents.view")
def show(resident_id: int):
    resident = services.get_resident(resident_id, actor=current_user)
    page = services.resident_page(resident, beds.history_of(resident), actor=current_user, at=utcnow())
    return audited_read(render("residents/show.html", fragment="content", page=page, resident=resident,
                               title=resident.alias, **handover_part(resident)))


@bp.route("/<int:resident_id>/edit", methods=["GET", "POST"])
@requires("residents.edit")
def edit(resident_id: int):
    resident = services.get_resident(resident_id, actor=current_user)
    form = ResidentForm(obj=resident if request.method == "GET" else None)
    if request.method == "GET":
        services.record_form_view(resident, actor=current_user, at=utcnow())
        return audited_read(_render_form(form, resident))

    def perform():
        services.update_resident(resident, _input(form), actor=current_user, at=utcnow())
        return Outcome(_("Saved."), url_for("residents.show", resident_id=resident.id))

    def again(status: int):
        # The refused form is shown again with the record around it: a read of the record, audited.
        shown = services.get_resident(resident_id, actor=current_user)
        services.record_form_view(shown, actor=current_user, at=utcnow())
        return audited_read(_render_form(form, shown, status))

    return act(perform, form=form, again=again)
