"""referrals get a random public id

Revision ID: 0008_referral_public_ids
Revises: 0007_shelter_staff
Create Date: 2026-12-01 12:00:00

A referral was addressed by its row id in every URL a case manager sees: one sequence across
organisations, so a case manager could count everyone's referrals. public_id (20 random hex
digits) is its address from now on; existing referrals are given one.

SQLite adds the column in place (NOT NULL with an empty default, filled at once): rebuilding the
table in batch mode would trip the foreign key of holds.referral_id. Its length is checked by the
database on PostgreSQL and by the service that makes it on both.
"""
import secrets

from alembic import op
import sqlalchemy as sa


revision = '0008_referral_public_ids'
down_revision = '0007_shelter_staff'
branch_labels = None
depends_on = None

LENGTH = 20  # a frozen copy of shelter_app.referrals.vocab.PUBLIC_ID_LENGTH


def upgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == 'sqlite'
    if sqlite:
        op.execute(f"ALTER TABLE referrals ADD COLUMN public_id VARCHAR({LENGTH}) NOT NULL DEFAULT ''")
    else:
        op.add_column('referrals', sa.Column('public_id', sa.String(length=LENGTH), nullable=True))
    referrals = sa.table('referrals', sa.column('id', sa.Integer), sa.column('public_id', sa.String))
    for (referral_id,) in bind.execute(sa.select(referrals.c.id)).all():
        bind.execute(referrals.update().where(referrals.c.id == referral_id)
                     .values(public_id=secrets.token_hex(LENGTH // 2)))
    if not sqlite:
        op.alter_column('referrals', 'public_id', nullable=False)
        op.create_check_constraint(op.f('ck_referrals_public_id_length'), 'referrals',
                                   f'length(public_id) = {LENGTH}')
    op.create_index('uq_referrals_public_id', 'referrals', ['public_id'], unique=True)


def downgrade():
    op.drop_index('uq_referrals_public_id', table_name='referrals')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE referrals DROP COLUMN public_id')
    else:
        op.drop_constraint(op.f('ck_referrals_public_id_length'), 'referrals', type_='check')
        op.drop_column('referrals', 'public_id')
