"""Residents: the pseudonymous record. Where they sleep lives in beds.models."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .vocab import (ALIAS_MAX, ALLERGIES_MAX, COUNTRY_MAX, DIET_MAX, DOCUMENT_MAX, LANGUAGES_MAX, LEGAL_NAME_MAX,
                    AgeBand, Sex)


class Resident(db.Model):
    __tablename__ = "residents"
    __table_args__ = (
        CheckConstraint(Sex.check("sex"), name="sex_known"),
        CheckConstraint(AgeBand.check("age_band"), name="age_band_known"),
        CheckConstraint("birth_year IS NULL OR birth_year BETWEEN 1900 AND 2100", name="birth_year_range"),
        CheckConstraint("age_band = 'adult' OR birth_year IS NOT NULL", name="child_has_birth_year"),
        CheckConstraint(f"length(alias) BETWEEN 1 AND {ALIAS_MAX}", name="alias_length"),
        # Who was recorded lately, per shelter: the residents list and a free bed's panel (no full scan).
        Index("ix_residents_shelter_created", "shelter_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Generated, unique, means nothing outside the shelter.
    code: Mapped[str] = mapped_column(String(12), unique=True)
    # The shelter whose staff see the record: set at creation, changed by a check-in or move to another
    # shelter. None only for a record made before any shelter existed (every staff member sees it).
    shelter_id: Mapped[int | None] = mapped_column(ForeignKey("shelters.id"), index=True)
    alias: Mapped[str] = mapped_column(String(ALIAS_MAX))
    sex: Mapped[str] = mapped_column(String(10))
    age_band: Mapped[str] = mapped_column(String(10), default=AgeBand.ADULT)
    birth_year: Mapped[int | None]
    country_of_origin: Mapped[str] = mapped_column(String(COUNTRY_MAX), default="")
    languages: Mapped[str] = mapped_column(String(LANGUAGES_MAX), default="")
    interpreter_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    exploitation_forms: Mapped[list] = mapped_column(JSON, default=list)
    dietary_needs: Mapped[str] = mapped_column(String(DIET_MAX), default="")
    allergies: Mapped[str] = mapped_column(String(ALLERGIES_MAX), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # Managers only; optional, and erased by retention.
    legal_name: Mapped[str | None] = mapped_column(String(LEGAL_NAME_MAX))
    document_data: Mapped[str | None] = mapped_column(String(DOCUMENT_MAX))
    created_at: Mapped[datetime]
    anonymised_at: Mapped[datetime | None]
