"""Residents: list and search, the record, and the history page."""
from __future__ import annotations

from flask import Blueprint, flash, request
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import roles_required, staff_required
from ..errors import DomainError
from ..extensions import db
from ..timeutil import utcnow
from ..web import attach_error, render, see_other
from . import services
from .forms import AGE_LABELS, EXPLOITATION_LABELS, SEX_LABELS, ResidentForm

bp = Blueprint("residents", __name__, url_prefix="/residents")

RESIDENT_LABELS = {"sex": SEX_LABELS, "age": AGE_LABELS, "exploitation": EXPLOITATION_LABELS}


@bp.app_context_processor
def _labels():
    return {"resident_labels": RESIDENT_LABELS}


def _input(form: ResidentForm) -> services.ResidentInput:
    manager = current_user.role == "manager"
    return services.ResidentInput(
        alias=form.alias.data or "", sex=form.sex.data, age_band=form.age_band.data,
        birth_year=form.birth_year.data, country_of_origin=form.country_of_origin.data or "",
        languages=form.languages.data or "", interpreter_needed=form.interpreter_needed.data,
        exploitation_forms=tuple(form.exploitation_forms.data or ()), dietary_needs=form.dietary_needs.data or "",
        allergies=form.allergies.data or "", notes=form.notes.data or "",
        legal_name=form.legal_name.data if manager else None,
        document_data=form.document_data.data if manager else None,
    )


@bp.get("")
@staff_required
def index():
    query = request.args.get("q", "")
    return render("residents/index.html", fragment="results", title=_("Residents"), q=query,
                  rows=services.search_residents(query))


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    form = ResidentForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            try:
                resident = services.create_resident(_input(form), actor=current_user, at=utcnow())
            except DomainError as exc:
                db.session.rollback()
                attach_error(form, exc)
                status = exc.status if exc.status in (403, 409) else 422
            else:
                db.session.commit()
                flash(_("%(alias)s added with code %(code)s.", alias=resident.alias, code=resident.code), "success")
                return see_other("residents.show", resident_id=resident.id)
    return render("residents/form.html", fragment="content", status=status, form=form, resident=None,
                  title=_("New resident"))


@bp.get("/<int:resident_id>")
@staff_required
def show(resident_id: int):
    resident = services.get_resident(resident_id)
    page = services.resident_page(resident, actor=current_user, at=utcnow())
    response = render("residents/show.html", fragment="content", page=page, resident=resident, title=resident.alias)
    # Committed after rendering (a commit expires every loaded row), and before anything is sent:
    # no resident page leaves the server without its read in the audit log.
    db.session.commit()
    return response


@bp.route("/<int:resident_id>/edit", methods=["GET", "POST"])
@roles_required("manager", "trainer")
def edit(resident_id: int):
    resident = services.get_resident(resident_id)
    form = ResidentForm(obj=resident if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            try:
                services.update_resident(resident, _input(form), actor=current_user, at=utcnow())
            except DomainError as exc:
                db.session.rollback()
                attach_error(form, exc)
                status = exc.status if exc.status in (403, 409) else 422
            else:
                db.session.commit()
                flash(_("Saved."), "success")
                return see_other("residents.show", resident_id=resident.id)
        resident = services.get_resident(resident_id)
    return render("residents/form.html", fragment="content", status=status, form=form, resident=resident,
                  title=resident.alias)
