"""passkeys: WebAuthn credentials of accounts, the challenges of their ceremonies, sessions they started

Revision ID: 0011_passkeys
Revises: 0010_history_indexes
Create Date: 2026-12-01 16:38:34

passkeys holds each account's credentials (public key, sign counter, user handle, name, last use);
webauthn_challenges the challenges handed out for a ceremony under way, each taken by its first
answer. user_sessions.passkey_id says which passkey started a session (none for a password), so
that removing the passkey ends it. Existing sessions started with a password: passkey_id is NULL.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_passkeys'
down_revision = '0010_history_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('passkeys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('credential_id', sa.LargeBinary(length=1023), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=2048), nullable=False),
    sa.Column('sign_count', sa.BigInteger(), nullable=False),
    sa.Column('user_handle', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('length(name) BETWEEN 1 AND 60', name=op.f('ck_passkeys_name_length')),
    sa.CheckConstraint('sign_count BETWEEN 0 AND 4294967295', name=op.f('ck_passkeys_sign_count_range')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_passkeys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_passkeys')),
    sa.UniqueConstraint('credential_id', name=op.f('uq_passkeys_credential_id')),
    sa.UniqueConstraint('user_id', 'name', name='uq_passkeys_user_id_name')
    )
    with op.batch_alter_table('passkeys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_passkeys_user_id'), ['user_id'], unique=False)

    op.create_table('webauthn_challenges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_hash', sa.String(length=64), nullable=False),
    sa.Column('ceremony', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_handle', sa.LargeBinary(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("ceremony = 'sign_in' OR (user_id IS NOT NULL AND user_handle IS NOT NULL)", name=op.f('ck_webauthn_challenges_register_names_user')),
    sa.CheckConstraint("ceremony IN ('register', 'sign_in')", name=op.f('ck_webauthn_challenges_ceremony_known')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_webauthn_challenges_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webauthn_challenges')),
    sa.UniqueConstraint('challenge_hash', name=op.f('uq_webauthn_challenges_challenge_hash'))
    )
    with op.batch_alter_table('webauthn_challenges', schema=None) as batch_op:
        batch_op.create_index('ix_webauthn_challenges_expires_at', ['expires_at'], unique=False)

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('passkey_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_sessions_passkey_id'), ['passkey_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_user_sessions_passkey_id_passkeys'), 'passkeys', ['passkey_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_user_sessions_passkey_id_passkeys'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_user_sessions_passkey_id'))
        batch_op.drop_column('passkey_id')

    with op.batch_alter_table('webauthn_challenges', schema=None) as batch_op:
        batch_op.drop_index('ix_webauthn_challenges_expires_at')

    op.drop_table('webauthn_challenges')
    with op.batch_alter_table('passkeys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_passkeys_user_id'))

    op.drop_table('passkeys')
