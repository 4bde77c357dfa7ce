"""one-time form tokens: a form sent twice is done once

Revision ID: 0004_form_submissions
Revises: 0003_referrals
Create Date: 2026-11-25 10:00:00

Bed occupancy moved from the shelters and residents packages into its own (beds); its tables
(stays, holds, isolations) are unchanged. A regular room may now hold an open isolation (a
resident isolated in place): the existing partial unique index on open isolations per room
already allows it.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_form_submissions'
down_revision = '0003_referrals'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('form_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('location', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_form_submissions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_submissions')),
    sa.UniqueConstraint('user_id', 'token', name='uq_form_submissions_user_token')
    )


def downgrade():
    op.drop_table('form_submissions')
