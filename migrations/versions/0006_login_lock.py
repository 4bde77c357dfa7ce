"""sign-in lockout: one row per username, counted and decided in one statement

Revision ID: 0006_login_lock
Revises: 0005_audit_chain
Create Date: 2026-11-25 13:00:00

Failed sign-ins were counted (a SELECT over login_failures) and then recorded (an INSERT) in two
steps, so concurrent attempts all read a count under the limit and all had their password checked.
login_locks holds per username the failures in a row and the time of the last one; a conditional
upsert counts an attempt and decides it at once. login_failures stays as the history of failures.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_login_lock'
down_revision = '0005_audit_chain'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_locks',
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('failures >= 0', name=op.f('ck_login_locks_failures_not_negative')),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_login_locks'))
    )


def downgrade():
    op.drop_table('login_locks')
