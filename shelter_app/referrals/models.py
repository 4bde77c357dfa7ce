"""Referral requests from case managers of partner organisations."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..shelters.models import Shelter
from ..shelters.vocab import BedCategory
from .vocab import (CODE_MAX, DECLINE_NOTE_MAX, LANGUAGES_MAX, MAX_PEOPLE, NOTE_MAX, ORGANISATION_MAX, PUBLIC_ID_LENGTH,
                    DeclineReason, ReferralStatus)


class Referral(db.Model):
    """A case manager's request for a bed: answered by the shelter with a hold, or a reason."""

    __tablename__ = "referrals"
    __table_args__ = (
        # A partner's own reference is unique within that partner, so a double send is refused.
        UniqueConstraint("organisation", "code", name="uq_referrals_organisation_code"),
        CheckConstraint(ReferralStatus.check("status"), name="status_known"),
        CheckConstraint(BedCategory.check("category"), name="category_known"),
        CheckConstraint(f"people BETWEEN 1 AND {MAX_PEOPLE}", name="people_range"),
        CheckConstraint(f"length(code) BETWEEN 1 AND {CODE_MAX}", name="code_length"),
        CheckConstraint("length(organisation) >= 1", name="organisation_given"),
        CheckConstraint("arrival_until > arrival_from", name="window_ordered"),
        CheckConstraint("status IN ('pending', 'cancelled') OR answered_at IS NOT NULL", name="answered_when"),
        CheckConstraint(DeclineReason.check("decline_reason", nullable=True), name="decline_reason_known"),
        CheckConstraint("(status = 'declined') = (decline_reason IS NOT NULL)", name="declined_with_reason"),
        CheckConstraint("status NOT IN ('accepted', 'arrived') OR shelter_id IS NOT NULL", name="accepted_by_shelter"),
        CheckConstraint("(status = 'arrived') = (stay_id IS NOT NULL)", name="arrived_with_stay"),
        CheckConstraint(f"length(public_id) = {PUBLIC_ID_LENGTH}", name="public_id_length"),
        Index("ix_referrals_status_created", "status", "created_at"),
        # Referrals still waiting within their window: the boards' inbox reads only those, however many
        # pending ones lapsed over the years.
        Index("ix_referrals_status_until", "status", "arrival_until"),
        Index("uq_referrals_public_id", "public_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The referral's address in URLs and pages: the sequence of ids would let a case manager count
    # every organisation's referrals.
    public_id: Mapped[str] = mapped_column(String(PUBLIC_ID_LENGTH))
    # The partner organisation of the case manager who sent it: who may see it.
    organisation: Mapped[str] = mapped_column(String(ORGANISATION_MAX), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # NULL: any shelter; set to the accepting shelter when accepted.
    shelter_id: Mapped[int | None] = mapped_column(ForeignKey("shelters.id", ondelete="RESTRICT"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    people: Mapped[int]
    arrival_from: Mapped[datetime]
    arrival_until: Mapped[datetime]
    languages: Mapped[str] = mapped_column(String(LANGUAGES_MAX), default="")
    interpreter_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    needs: Mapped[list] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(String(NOTE_MAX), default="")
    # The partner's own reference for the person; never their name.
    code: Mapped[str] = mapped_column(String(CODE_MAX))
    status: Mapped[str] = mapped_column(String(20), default=ReferralStatus.PENDING)
    created_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decline_reason: Mapped[str | None] = mapped_column(String(20))
    decline_note: Mapped[str] = mapped_column(String(DECLINE_NOTE_MAX), default="")
    cancelled_at: Mapped[datetime | None]
    stay_id: Mapped[int | None] = mapped_column(ForeignKey("stays.id", ondelete="RESTRICT"), unique=True)

    shelter: Mapped[Shelter | None] = relationship()
