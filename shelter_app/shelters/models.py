"""Shelters, their rooms and beds, and holds on beds."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

BED_CATEGORIES = ("woman", "man", "child_cot", "family")
ROOM_KINDS = ("regular", "isolation")
ROOM_GROUPS = ("women", "men", "families")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Shelter(db.Model):
    __tablename__ = "shelters"
    __table_args__ = (CheckConstraint("length(code_name) BETWEEN 2 AND 40", name="code_name_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The only name outsiders (case managers, partner systems) ever see.
    code_name: Mapped[str] = mapped_column(String(40), unique=True)
    # Staff-only: the real name and address.
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]

    rooms: Mapped[list["Room"]] = relationship(back_populates="shelter", order_by="Room.name")


class Room(db.Model):
    __tablename__ = "rooms"
    __table_args__ = (
        UniqueConstraint("shelter_id", "name", name="uq_rooms_shelter_name"),
        CheckConstraint(_in("kind", ROOM_KINDS), name="kind_known"),
        CheckConstraint(f"room_group IS NULL OR {_in('room_group', ROOM_GROUPS)}", name="group_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelters.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20), default="regular")
    room_group: Mapped[str | None] = mapped_column(String(20))

    shelter: Mapped[Shelter] = relationship(back_populates="rooms")
    beds: Mapped[list["Bed"]] = relationship(back_populates="room", order_by="Bed.label")

    @property
    def is_isolation(self) -> bool:
        return self.kind == "isolation"


class Bed(db.Model):
    __tablename__ = "beds"
    __table_args__ = (
        UniqueConstraint("room_id", "label", name="uq_beds_room_label"),
        CheckConstraint(_in("category", BED_CATEGORIES), name="category_known"),
        CheckConstraint(
            "(out_of_service_reason IS NULL) = (out_of_service_since IS NULL)", name="out_of_service_complete"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="RESTRICT"), index=True)
    label: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(20))
    out_of_service_reason: Mapped[str | None] = mapped_column(String(200))
    out_of_service_since: Mapped[datetime | None]
    # Back in service by itself after this moment, without anyone having to remember.
    out_of_service_until: Mapped[datetime | None]

    room: Mapped[Room] = relationship(back_populates="beds")

    def out_of_service_at(self, at: datetime) -> bool:
        return self.out_of_service_reason is not None and (
            self.out_of_service_until is None or self.out_of_service_until > at
        )


class Hold(db.Model):
    """A bed kept for an expected arrival until expires_at; expired holds free the bed by themselves."""

    __tablename__ = "holds"
    __table_args__ = (
        # At most one unreleased hold per bed; expired ones are released before a new one is placed.
        Index("uq_holds_bed_open", "bed_id", unique=True,
              sqlite_where=text("released_at IS NULL"), postgresql_where=text("released_at IS NULL")),
        # A referral keeps at most one bed at a time.
        Index("uq_holds_referral_open", "referral_id", unique=True,
              sqlite_where=text("released_at IS NULL AND referral_id IS NOT NULL"),
              postgresql_where=text("released_at IS NULL AND referral_id IS NOT NULL")),
        CheckConstraint("expires_at > created_at", name="expires_after_created"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bed_id: Mapped[int] = mapped_column(ForeignKey("beds.id", ondelete="RESTRICT"), index=True)
    expires_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    released_at: Mapped[datetime | None]
    release_reason: Mapped[str | None] = mapped_column(String(20))
    # Set when the hold answers a case manager's referral.
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id", ondelete="RESTRICT"), index=True)

    bed: Mapped[Bed] = relationship()

    def active_at(self, at: datetime) -> bool:
        return self.released_at is None and self.expires_at > at
