"""availability changes: when what is free in a shelter last changed, noted as it happens

Revision ID: 0009_availability_changes
Revises: 0008_referral_public_ids
Create Date: 2026-12-01 15:00:00

Until now the time of each shelter's last change was worked out on every availability request from the
whole audit log and the history of stays and holds: a second at national scale, and growing. From now on
each bed action and setup change appends a row here in its own transaction, and availability reads the
latest row per shelter (one index probe each). Existing shelters get one row: the latest moment their
stays, holds, isolations and beds show.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_availability_changes'
down_revision = '0008_referral_public_ids'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('availability_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shelter_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shelter_id'], ['shelters.id'], name=op.f('fk_availability_changes_shelter_id_shelters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_availability_changes'))
    )
    op.create_index('ix_availability_changes_shelter_at', 'availability_changes', ['shelter_id', 'at'], unique=False)
    bed_shelter = "JOIN beds b ON b.id = {t}.bed_id JOIN rooms r ON r.id = b.room_id"
    op.execute(f"""
        INSERT INTO availability_changes (shelter_id, at)
        SELECT shelter_id, max(moment) FROM (
            SELECT r.shelter_id, s.started_at AS moment FROM stays s {bed_shelter.format(t='s')}
            UNION ALL SELECT r.shelter_id, s.ended_at FROM stays s {bed_shelter.format(t='s')}
                WHERE s.ended_at IS NOT NULL
            UNION ALL SELECT r.shelter_id, h.created_at FROM holds h {bed_shelter.format(t='h')}
            UNION ALL SELECT r.shelter_id, h.released_at FROM holds h {bed_shelter.format(t='h')}
                WHERE h.released_at IS NOT NULL
            UNION ALL SELECT r.shelter_id, i.started_at FROM isolations i JOIN rooms r ON r.id = i.room_id
            UNION ALL SELECT r.shelter_id, i.ended_at FROM isolations i JOIN rooms r ON r.id = i.room_id
                WHERE i.ended_at IS NOT NULL
            UNION ALL SELECT r.shelter_id, b.out_of_service_since FROM beds b JOIN rooms r ON r.id = b.room_id
                WHERE b.out_of_service_since IS NOT NULL
        ) AS moments GROUP BY shelter_id
    """)


def downgrade():
    op.drop_index('ix_availability_changes_shelter_at', table_name='availability_changes')
    op.drop_table('availability_changes')
