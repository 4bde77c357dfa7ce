"""referrals, api tokens, holds linked to referrals

Revision ID: 0003_referrals
Revises: 0002_bed_board
Create Date: 2026-11-23 15:21:49.381485

On SQLite the holds table is rebuilt (batch mode) to add the foreign key; its partial
unique index on open holds is carried over.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_referrals'
down_revision = '0002_bed_board'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation', sa.String(length=120), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('length(label) >= 1', name=op.f('ck_api_tokens_label_given')),
    sa.CheckConstraint('length(organisation) >= 1', name=op.f('ck_api_tokens_organisation_given')),
    sa.CheckConstraint('revoked_at IS NULL OR revoked_at >= created_at', name=op.f('ck_api_tokens_revoked_after_created')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_tokens_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_api_tokens_revoked_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_organisation'), ['organisation'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation', sa.String(length=120), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('shelter_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('arrival_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('arrival_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('languages', sa.String(length=200), nullable=False),
    sa.Column('interpreter_needed', sa.Boolean(), nullable=False),
    sa.Column('needs', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('decline_reason', sa.String(length=20), nullable=True),
    sa.Column('decline_note', sa.String(length=300), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stay_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(status = 'arrived') = (stay_id IS NOT NULL)", name=op.f('ck_referrals_arrived_with_stay')),
    sa.CheckConstraint("(status = 'declined') = (decline_reason IS NOT NULL)", name=op.f('ck_referrals_declined_with_reason')),
    sa.CheckConstraint("category IN ('woman', 'man', 'child_cot', 'family')", name=op.f('ck_referrals_category_known')),
    sa.CheckConstraint("decline_reason IS NULL OR decline_reason IN ('no_bed', 'needs_not_met', 'not_suitable', 'other')", name=op.f('ck_referrals_decline_reason_known')),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'cancelled', 'arrived')", name=op.f('ck_referrals_status_known')),
    sa.CheckConstraint("status IN ('pending', 'cancelled') OR answered_at IS NOT NULL", name=op.f('ck_referrals_answered_when')),
    sa.CheckConstraint("status NOT IN ('accepted', 'arrived') OR shelter_id IS NOT NULL", name=op.f('ck_referrals_accepted_by_shelter')),
    sa.CheckConstraint('arrival_until > arrival_from', name=op.f('ck_referrals_window_ordered')),
    sa.CheckConstraint('length(code) BETWEEN 1 AND 40', name=op.f('ck_referrals_code_length')),
    sa.CheckConstraint('length(organisation) >= 1', name=op.f('ck_referrals_organisation_given')),
    sa.CheckConstraint('people BETWEEN 1 AND 10', name=op.f('ck_referrals_people_range')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_referrals_answered_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_referrals_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shelter_id'], ['shelters.id'], name=op.f('fk_referrals_shelter_id_shelters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['stay_id'], ['stays.id'], name=op.f('fk_referrals_stay_id_stays'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('organisation', 'code', name='uq_referrals_organisation_code'),
    sa.UniqueConstraint('stay_id', name=op.f('uq_referrals_stay_id'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_organisation'), ['organisation'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_shelter_id'), ['shelter_id'], unique=False)
        batch_op.create_index('ix_referrals_status_created', ['status', 'created_at'], unique=False)

    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('referral_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_holds_referral_id'), ['referral_id'], unique=False)
        batch_op.create_index('uq_holds_referral_open', ['referral_id'], unique=True, sqlite_where=sa.text('released_at IS NULL AND referral_id IS NOT NULL'), postgresql_where=sa.text('released_at IS NULL AND referral_id IS NOT NULL'))
        batch_op.create_foreign_key(batch_op.f('fk_holds_referral_id_referrals'), 'referrals', ['referral_id'], ['id'], ondelete='RESTRICT')



def downgrade():
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_holds_referral_id_referrals'), type_='foreignkey')
        batch_op.drop_index('uq_holds_referral_open', sqlite_where=sa.text('released_at IS NULL AND referral_id IS NOT NULL'), postgresql_where=sa.text('released_at IS NULL AND referral_id IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_holds_referral_id'))
        batch_op.drop_column('referral_id')

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_status_created')
        batch_op.drop_index(batch_op.f('ix_referrals_shelter_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_organisation'))

    op.drop_table('referrals')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_organisation'))

    op.drop_table('api_tokens')
