"""Residents (pseudonymous), their stays in beds and their isolation periods."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..shelters.models import Bed, Room, _in

SEXES = ("female", "male", "other")
AGE_BANDS = ("adult", "child")
EXPLOITATION_FORMS = ("labour", "sexual", "criminality", "begging", "other")
ISOLATION_REASONS = ("health", "safety")
CHECKOUT_REASONS = ("own_accommodation", "other_shelter", "returned_home", "left", "other")


class Resident(db.Model):
    __tablename__ = "residents"
    __table_args__ = (
        CheckConstraint(_in("sex", SEXES), name="sex_known"),
        CheckConstraint(_in("age_band", AGE_BANDS), name="age_band_known"),
        CheckConstraint("birth_year IS NULL OR birth_year BETWEEN 1900 AND 2100", name="birth_year_range"),
        CheckConstraint("age_band = 'adult' OR birth_year IS NOT NULL", name="child_has_birth_year"),
        CheckConstraint("length(alias) BETWEEN 1 AND 60", name="alias_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Generated, unique, means nothing outside the shelter.
    code: Mapped[str] = mapped_column(String(12), unique=True)
    alias: Mapped[str] = mapped_column(String(60))
    sex: Mapped[str] = mapped_column(String(10))
    age_band: Mapped[str] = mapped_column(String(10), default="adult")
    birth_year: Mapped[int | None]
    country_of_origin: Mapped[str] = mapped_column(String(60), default="")
    languages: Mapped[str] = mapped_column(String(200), default="")
    interpreter_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    exploitation_forms: Mapped[list] = mapped_column(JSON, default=list)
    dietary_needs: Mapped[str] = mapped_column(String(300), default="")
    allergies: Mapped[str] = mapped_column(String(300), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # Managers only; optional, and erased by retention.
    legal_name: Mapped[str | None] = mapped_column(String(200))
    document_data: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    anonymised_at: Mapped[datetime | None]

    stays: Mapped[list["Stay"]] = relationship(back_populates="resident", order_by="Stay.started_at.desc()")


class Stay(db.Model):
    """A resident in a bed from started_at until ended_at (open while NULL)."""

    __tablename__ = "stays"
    __table_args__ = (
        Index("uq_stays_bed_open", "bed_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        Index("uq_stays_resident_open", "resident_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        CheckConstraint("end_reason IS NULL OR end_reason IN ('moved', 'checked_out')", name="end_reason_known"),
        CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name="ended_with_reason"),
        CheckConstraint(f"checkout_reason IS NULL OR {_in('checkout_reason', CHECKOUT_REASONS)}",
                        name="checkout_reason_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="RESTRICT"), index=True)
    bed_id: Mapped[int] = mapped_column(ForeignKey("beds.id", ondelete="RESTRICT"), index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))
    checkout_reason: Mapped[str | None] = mapped_column(String(20))
    destination: Mapped[str | None] = mapped_column(String(200))
    referral_code: Mapped[str | None] = mapped_column(String(40))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    resident: Mapped[Resident] = relationship(back_populates="stays")
    bed: Mapped[Bed] = relationship()


class Isolation(db.Model):
    """A resident kept in an isolation room; the room holds one resident at a time."""

    __tablename__ = "isolations"
    __table_args__ = (
        Index("uq_isolations_room_open", "room_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        Index("uq_isolations_resident_open", "resident_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        CheckConstraint(_in("reason", ISOLATION_REASONS), name="reason_known"),
        CheckConstraint("expected_end_at > started_at", name="expected_end_after_start"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="RESTRICT"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="RESTRICT"), index=True)
    reason: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(String(300), default="")
    started_at: Mapped[datetime]
    expected_end_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    resident: Mapped[Resident] = relationship()
    room: Mapped[Room] = relationship()
