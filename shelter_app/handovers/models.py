"""Shifts and who is on duty, handovers with their entries, tasks, night rounds and presence.

What is written cannot be lost: entries are never deleted, and once their handover is acknowledged or
they are 24 hours old they cannot be changed either (a correction is a new entry referring to the old
one). The database holds to that itself: triggers on both databases (migration 0012_handovers).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..extensions import db
from ..residents.models import Resident
from ..shelters.models import Room, Shelter
from .vocab import (ACTION_MAX, CLIENT_KEY_MAX, ENTRY_TEXT_MAX, HEADCOUNT_MAX, MINUTES_PER_DAY, ROOM_NOTE_MAX,
                    TASK_TEXT_MAX, EntryKind, IncidentKind, RoomStatus, ShiftKind)


def _minute(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} >= 0 AND {column} < {MINUTES_PER_DAY}", name=f"{column}_in_day")


def _partial_unique(name: str, columns: list[str], where: str) -> Index:
    return Index(name, *columns, unique=True, sqlite_where=text(where), postgresql_where=text(where))


class ShiftSettings(db.Model):
    """A shelter's shift times and curfew, as minutes after local midnight (absent: the defaults)."""

    __tablename__ = "shift_settings"
    __table_args__ = (
        _minute("day_starts"), _minute("night_starts"), _minute("curfew"),
        # The day shift lies within one calendar day; the night shift runs over midnight.
        CheckConstraint("day_starts < night_starts", name="day_before_night"),
    )

    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelters.id", ondelete="RESTRICT"), primary_key=True)
    day_starts: Mapped[int]
    night_starts: Mapped[int]
    curfew: Mapped[int]
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))


class RoundTime(db.Model):
    """A time of night when the shelter's night round is due (local time, minutes after midnight)."""

    __tablename__ = "round_times"
    __table_args__ = (
        UniqueConstraint("shelter_id", "minute", name="uq_round_times_shelter_minute"),
        _minute("minute"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelters.id", ondelete="RESTRICT"), index=True)
    minute: Mapped[int]


class DutyAssignment(db.Model):
    """A person on duty in one shift (the shift of shift_kind that starts on shift_date) of a shelter."""

    __tablename__ = "duty_assignments"
    __table_args__ = (
        UniqueConstraint("shelter_id", "shift_date", "shift_kind", "user_id", name="uq_duty_assignments_shift_user"),
        CheckConstraint(ShiftKind.check("shift_kind"), name="shift_kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelters.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    shift_date: Mapped[date]
    shift_kind: Mapped[str] = mapped_column(String(10))
    assigned_at: Mapped[datetime]
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Handover(db.Model):
    """The logbook of a shelter between two handovers: written while open, then handed over and read.

    A shelter has at most one open handover (the one being written). Handed over, its general note is
    final; acknowledged by the incoming person, nothing of it or its entries changes any more.
    """

    __tablename__ = "handovers"
    __table_args__ = (
        _partial_unique("uq_handovers_shelter_open", ["shelter_id"], "handed_over_at IS NULL"),
        Index("ix_handovers_shelter_handed_over", "shelter_id", "handed_over_at"),
        CheckConstraint(ShiftKind.check("shift_kind"), name="shift_kind_known"),
        CheckConstraint("(handed_over_at IS NULL) = (handed_over_by_id IS NULL)", name="handed_over_by_someone"),
        CheckConstraint("(acknowledged_at IS NULL) = (acknowledged_by_id IS NULL)", name="acknowledged_by_someone"),
        CheckConstraint("acknowledged_at IS NULL OR handed_over_at IS NOT NULL", name="acknowledged_after_handed_over"),
        CheckConstraint("handed_over_at IS NULL OR handed_over_at >= opened_at", name="handed_over_after_opened"),
        CheckConstraint("acknowledged_by_id IS NULL OR acknowledged_by_id <> handed_over_by_id",
                        name="acknowledged_by_another"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelters.id", ondelete="RESTRICT"))
    # The shift in which it was opened.
    shift_kind: Mapped[str] = mapped_column(String(10))
    shift_date: Mapped[date]
    opened_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")
    handed_over_at: Mapped[datetime | None]
    handed_over_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    shelter: Mapped[Shelter] = relationship()
    handed_over_by: Mapped[User | None] = relationship(foreign_keys=[handed_over_by_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])


class Outing(db.Model):
    """A resident out of the house: from went_out_at until came_back_at (out while NULL)."""

    __tablename__ = "outings"
    __table_args__ = (
        _partial_unique("uq_outings_resident_open", ["resident_id"], "came_back_at IS NULL"),
        Index("ix_outings_shelter_open", "shelter_id", "came_back_at"),
        CheckConstraint("came_back_at IS NULL OR came_back_at >= went_out_at", name="back_after_out"),
        CheckConstraint("expected_back_at IS NULL OR expected_back_at > went_out_at", name="expected_after_out"),
        # Whoever goes out with notice says when they will be back.
        CheckConstraint("without_notice OR expected_back_at IS NOT NULL", name="expected_unless_without_notice"),
        CheckConstraint("(came_back_at IS NULL) = (back_by_id IS NULL)", name="back_by_someone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelters.id", ondelete="RESTRICT"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="RESTRICT"), index=True)
    went_out_at: Mapped[datetime]
    expected_back_at: Mapped[datetime | None]
    without_notice: Mapped[bool] = mapped_column(Boolean, default=False)
    out_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    came_back_at: Mapped[datetime | None]
    back_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    resident: Mapped[Resident] = relationship()


class HandoverEntry(db.Model):
    """One entry of a handover: about a resident, an incident, or an observation.

    Stored once per (author, client key): an entry sent again from a phone's outbox is the same entry.
    """

    __tablename__ = "handover_entries"
    __table_args__ = (
        UniqueConstraint("author_id", "client_key", name="uq_handover_entries_author_key"),
        # One safety incident per outing (gone without notice, or not back by the curfew).
        _partial_unique("uq_handover_entries_outing", ["outing_id"], "outing_id IS NOT NULL"),
        Index("ix_handover_entries_resident_at", "resident_id", "occurred_at"),
        Index("ix_handover_entries_shelter_at", "shelter_id", "occurred_at"),
        CheckConstraint(EntryKind.check("kind"), name="kind_known"),
        CheckConstraint(IncidentKind.check("incident_kind", nullable=True), name="incident_kind_known"),
        CheckConstraint("(kind = 'incident') = (incident_kind IS NOT NULL)", name="incident_has_kind"),
        CheckConstraint("kind = 'incident' OR resident_id IS NOT NULL", name="about_a_resident"),
        CheckConstraint("outing_id IS NULL OR kind = 'incident'", name="outing_raises_incidents"),
        # Written by a person, or raised by the app itself (not back by the curfew).
        CheckConstraint("author_id IS NOT NULL OR outing_id IS NOT NULL", name="authored"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handovers.id", ondelete="RESTRICT"), index=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelters.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(20))
    incident_kind: Mapped[str | None] = mapped_column(String(20))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="RESTRICT"))
    # When it happened (an incident, an observation); when written, for an entry about a resident.
    occurred_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(String(ENTRY_TEXT_MAX), default="")
    action_taken: Mapped[str] = mapped_column(String(ACTION_MAX), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime]
    edited_at: Mapped[datetime | None]
    # NO ACTION, not RESTRICT: checked at the end of a statement, so one statement may remove an entry and its
    # correction together (the test suite's clean-up; the app itself deletes no entry, and the triggers refuse it).
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("handover_entries.id"), index=True)
    outing_id: Mapped[int | None] = mapped_column(ForeignKey("outings.id", ondelete="RESTRICT"))
    client_key: Mapped[str | None] = mapped_column(String(CLIENT_KEY_MAX))

    handover: Mapped[Handover] = relationship()
    resident: Mapped[Resident | None] = relationship()
    author: Mapped[User | None] = relationship()
    outing: Mapped[Outing | None] = relationship()
    corrects: Mapped["HandoverEntry | None"] = relationship(remote_side=[id])


class Task(db.Model):
    """Something to be done, with an owner and a due time; it carries over from shift to shift until done."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("created_by_id", "client_key", name="uq_tasks_author_key"),
        Index("ix_tasks_shelter_open", "shelter_id", "done_at"),
        CheckConstraint("(done_at IS NULL) = (done_by_id IS NULL)", name="done_by_someone"),
        CheckConstraint("done_at IS NULL OR done_at >= created_at", name="done_after_created"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelters.id", ondelete="RESTRICT"))
    # The handover in which it was written.
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id", ondelete="RESTRICT"), index=True)
    text: Mapped[str] = mapped_column(String(TASK_TEXT_MAX))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    due_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    client_key: Mapped[str | None] = mapped_column(String(CLIENT_KEY_MAX))

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])


class Round(db.Model):
    """The night round due at due_at (one of the shelter's round times): its rooms and its headcount."""

    __tablename__ = "rounds"
    __table_args__ = (
        UniqueConstraint("shelter_id", "due_at", name="uq_rounds_shelter_due"),
        UniqueConstraint("headcount_by_id", "headcount_key", name="uq_rounds_headcount_key"),
        CheckConstraint(f"headcount IS NULL OR headcount BETWEEN 0 AND {HEADCOUNT_MAX}", name="headcount_range"),
        CheckConstraint("(headcount IS NULL) = (expected IS NULL)", name="headcount_with_expected"),
        CheckConstraint("(headcount IS NULL) = (headcount_at IS NULL)", name="headcount_with_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("shelters.id", ondelete="RESTRICT"))
    due_at: Mapped[datetime]
    started_at: Mapped[datetime]
    # The residents counted, and how many the app had in the house at that moment.
    headcount: Mapped[int | None]
    expected: Mapped[int | None]
    headcount_at: Mapped[datetime | None]
    headcount_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    headcount_key: Mapped[str | None] = mapped_column(String(CLIENT_KEY_MAX))

    checks: Mapped[list["RoundCheck"]] = relationship(back_populates="round", order_by="RoundCheck.checked_at")

    @property
    def mismatch(self) -> bool:
        return self.headcount is not None and self.headcount != self.expected


class RoundCheck(db.Model):
    """One room looked into during a round: one tap, all quiet or something to note."""

    __tablename__ = "round_checks"
    __table_args__ = (
        UniqueConstraint("round_id", "room_id", name="uq_round_checks_round_room"),
        UniqueConstraint("by_id", "client_key", name="uq_round_checks_author_key"),
        CheckConstraint(RoomStatus.check("status"), name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="RESTRICT"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(String(ROOM_NOTE_MAX), default="")
    checked_at: Mapped[datetime]
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    client_key: Mapped[str | None] = mapped_column(String(CLIENT_KEY_MAX))

    round: Mapped[Round] = relationship(back_populates="checks")
    room: Mapped[Room] = relationship()
    by: Mapped[User] = relationship()
