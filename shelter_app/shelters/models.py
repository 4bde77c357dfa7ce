"""Shelters, their rooms and beds (setup). Who is in a bed lives in beds.models."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..beds.vocab import OUT_REASON_MAX
from .vocab import BED_LABEL_MAX, CODE_NAME_MAX, CODE_NAME_MIN, ROOM_NAME_MAX, SHELTER_NAME_MAX, BedCategory, RoomGroup, RoomKind


class Shelter(db.Model):
    __tablename__ = "shelters"
    __table_args__ = (CheckConstraint(f"length(code_name) BETWEEN {CODE_NAME_MIN} AND {CODE_NAME_MAX}", name="code_name_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The only name outsiders (case managers, partner systems) ever see.
    code_name: Mapped[str] = mapped_column(String(CODE_NAME_MAX), unique=True)
    # Staff-only: the real name and address.
    name: Mapped[str] = mapped_column(String(SHELTER_NAME_MAX))
    address: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]

    rooms: Mapped[list["Room"]] = relationship(back_populates="shelter", order_by="Room.name")


class ShelterStaff(db.Model):
    """A staff account belongs to a shelter: it sees that shelter's board, residents and referrals."""

    __tablename__ = "shelter_staff"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelters.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)


class Room(db.Model):
    __tablename__ = "rooms"
    __table_args__ = (
        UniqueConstraint("shelter_id", "name", name="uq_rooms_shelter_name"),
        CheckConstraint(RoomKind.check("kind"), name="kind_known"),
        CheckConstraint(RoomGroup.check("room_group", nullable=True), name="group_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelters.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(ROOM_NAME_MAX))
    kind: Mapped[str] = mapped_column(String(20), default=RoomKind.REGULAR)
    room_group: Mapped[str | None] = mapped_column(String(20))

    shelter: Mapped[Shelter] = relationship(back_populates="rooms")
    beds: Mapped[list["Bed"]] = relationship(back_populates="room", order_by="Bed.label")

    @property
    def is_isolation(self) -> bool:
        return self.kind == RoomKind.ISOLATION


class Bed(db.Model):
    __tablename__ = "beds"
    __table_args__ = (
        UniqueConstraint("room_id", "label", name="uq_beds_room_label"),
        CheckConstraint(BedCategory.check("category"), name="category_known"),
        CheckConstraint(
            "(out_of_service_reason IS NULL) = (out_of_service_since IS NULL)", name="out_of_service_complete"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="RESTRICT"), index=True)
    label: Mapped[str] = mapped_column(String(BED_LABEL_MAX))
    category: Mapped[str] = mapped_column(String(20))
    out_of_service_reason: Mapped[str | None] = mapped_column(String(OUT_REASON_MAX))
    out_of_service_since: Mapped[datetime | None]
    # Back in service by itself after this moment, without anyone having to remember.
    out_of_service_until: Mapped[datetime | None]

    room: Mapped[Room] = relationship(back_populates="beds")

    def out_of_service_at(self, at: datetime) -> bool:
        return self.out_of_service_reason is not None and (
            self.out_of_service_until is None or self.out_of_service_until > at
        )


class AvailabilityChange(db.Model):
    """When something changed what is free in a shelter (append-only; partners read the latest per shelter).

    Written in the transaction of each bed action and setup change. Read with an index probe per shelter
    (the latest row of each), so the time of the last change costs the same after years of history.
    """

    __tablename__ = "availability_changes"
    __table_args__ = (Index("ix_availability_changes_shelter_at", "shelter_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelters.id", ondelete="CASCADE"))
    at: Mapped[datetime]
