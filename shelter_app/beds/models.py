"""Who is in which bed: stays, holds for expected arrivals, and isolations."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..residents.models import Resident
from ..shelters.models import Bed, Room
from .vocab import (DESTINATION_MAX, HOLD_NOTE_MAX, ISOLATION_NOTE_MAX, REFERRAL_CODE_MAX, CheckoutReason,
                    IsolationReason, StayEnd)


def _open_unique(name: str, column: str, open_when: str = "ended_at IS NULL") -> Index:
    """A partial unique index: at most one open row per column value, on both databases."""
    return Index(name, column, unique=True, sqlite_where=text(open_when), postgresql_where=text(open_when))


class Hold(db.Model):
    """A bed kept for an expected arrival until expires_at; expired holds free the bed by themselves."""

    __tablename__ = "holds"
    __table_args__ = (
        # At most one unreleased hold per bed; expired ones are released before a new one is placed.
        _open_unique("uq_holds_bed_open", "bed_id", "released_at IS NULL"),
        # A referral keeps at most one bed at a time.
        _open_unique("uq_holds_referral_open", "referral_id", "released_at IS NULL AND referral_id IS NOT NULL"),
        CheckConstraint("expires_at > created_at", name="expires_after_created"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bed_id: Mapped[int] = mapped_column(ForeignKey("beds.id", ondelete="RESTRICT"), index=True)
    expires_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(String(HOLD_NOTE_MAX), default="")
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    released_at: Mapped[datetime | None]
    release_reason: Mapped[str | None] = mapped_column(String(20))
    # Set when the hold answers a case manager's referral.
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id", ondelete="RESTRICT"), index=True)

    bed: Mapped[Bed] = relationship()

    def active_at(self, at: datetime) -> bool:
        return self.released_at is None and self.expires_at > at


class Stay(db.Model):
    """A resident in a bed from started_at until ended_at (open while NULL)."""

    __tablename__ = "stays"
    __table_args__ = (
        _open_unique("uq_stays_bed_open", "bed_id"),
        _open_unique("uq_stays_resident_open", "resident_id"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        CheckConstraint(StayEnd.check("end_reason", nullable=True), name="end_reason_known"),
        CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name="ended_with_reason"),
        CheckConstraint(CheckoutReason.check("checkout_reason", nullable=True), name="checkout_reason_known"),
        # Who left a bed lately (the expected residents), and when a bed was last free (check-in times).
        Index("ix_stays_bed_ended", "bed_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="RESTRICT"), index=True)
    bed_id: Mapped[int] = mapped_column(ForeignKey("beds.id", ondelete="RESTRICT"), index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))
    checkout_reason: Mapped[str | None] = mapped_column(String(20))
    destination: Mapped[str | None] = mapped_column(String(DESTINATION_MAX))
    referral_code: Mapped[str | None] = mapped_column(String(REFERRAL_CODE_MAX))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    resident: Mapped[Resident] = relationship()
    bed: Mapped[Bed] = relationship()


class Isolation(db.Model):
    """A resident kept apart: in an isolation room, or isolated in place in their own (regular) room.

    A room, of either kind, is isolated for at most one resident at a time; while a regular room is
    isolated in place, its other beds take nobody.
    """

    __tablename__ = "isolations"
    __table_args__ = (
        _open_unique("uq_isolations_room_open", "room_id"),
        _open_unique("uq_isolations_resident_open", "resident_id"),
        CheckConstraint(IsolationReason.check("reason"), name="reason_known"),
        CheckConstraint("expected_end_at > started_at", name="expected_end_after_start"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="RESTRICT"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="RESTRICT"), index=True)
    reason: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(String(ISOLATION_NOTE_MAX), default="")
    started_at: Mapped[datetime]
    expected_end_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    resident: Mapped[Resident] = relationship()
    room: Mapped[Room] = relationship()

    @property
    def in_place(self) -> bool:
        return not self.room.is_isolation
