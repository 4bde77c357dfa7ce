"""indexes that keep lists of what is current from reading the whole history

Revision ID: 0010_history_indexes
Revises: 0009_availability_changes
Create Date: 2026-12-01 17:30:00

residents (shelter_id, created_at): who was recorded lately per shelter; stays (bed_id, ended_at): who
left a bed lately and when a bed was last free; referrals (status, arrival_until): referrals still
waiting within their window (pending ones whose window passed are never read by the boards).
"""
from alembic import op


revision = '0010_history_indexes'
down_revision = '0009_availability_changes'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_residents_shelter_created', 'residents', ['shelter_id', 'created_at']),
    ('ix_stays_bed_ended', 'stays', ['bed_id', 'ended_at']),
    ('ix_referrals_status_until', 'referrals', ['status', 'arrival_until']),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
