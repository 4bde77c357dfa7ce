"""staff belong to shelters; residents to a shelter

Revision ID: 0007_shelter_staff
Revises: 0006_login_lock
Create Date: 2026-11-25 14:00:00

shelter_staff says which shelters a staff account (manager, trainer, night staff) sees. Until now
every staff account saw every shelter: each existing staff account is given every existing shelter,
so nothing changes on upgrade until the administrator narrows it.

residents.shelter_id is the shelter whose staff see the record: the shelter of the resident's
latest stay, else the first shelter (none when there is no shelter at all).
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_shelter_staff'
down_revision = '0006_login_lock'
branch_labels = None
depends_on = None

# A frozen copy of shelter_app.auth.vocab.STAFF_ROLES as of this revision.
STAFF_ROLES = ('manager', 'trainer', 'night')


def upgrade():
    op.create_table('shelter_staff',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('shelter_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shelter_id'], ['shelters.id'], name=op.f('fk_shelter_staff_shelter_id_shelters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_shelter_staff_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'shelter_id', name=op.f('pk_shelter_staff'))
    )
    op.create_index(op.f('ix_shelter_staff_shelter_id'), 'shelter_staff', ['shelter_id'], unique=False)

    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a column with its foreign key in place (batch mode would rebuild a table others refer to).
        op.execute('ALTER TABLE residents ADD COLUMN shelter_id INTEGER '
                   'CONSTRAINT fk_residents_shelter_id_shelters REFERENCES shelters (id)')
    else:
        op.add_column('residents', sa.Column('shelter_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_residents_shelter_id_shelters'), 'residents', 'shelters',
                              ['shelter_id'], ['id'])
    op.create_index(op.f('ix_residents_shelter_id'), 'residents', ['shelter_id'], unique=False)

    roles = ', '.join(f"'{role}'" for role in STAFF_ROLES)
    op.execute(f"""
        INSERT INTO shelter_staff (user_id, shelter_id)
        SELECT users.id, shelters.id FROM users CROSS JOIN shelters WHERE users.role IN ({roles})
    """)
    op.execute("""
        UPDATE residents SET shelter_id = (
            SELECT rooms.shelter_id FROM stays
            JOIN beds ON beds.id = stays.bed_id JOIN rooms ON rooms.id = beds.room_id
            WHERE stays.resident_id = residents.id
            ORDER BY stays.started_at DESC, stays.id DESC LIMIT 1)
    """)
    op.execute("UPDATE residents SET shelter_id = (SELECT min(id) FROM shelters) WHERE shelter_id IS NULL")


def downgrade():
    op.drop_index(op.f('ix_residents_shelter_id'), table_name='residents')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE residents DROP COLUMN shelter_id')
    else:
        op.drop_constraint(op.f('fk_residents_shelter_id_shelters'), 'residents', type_='foreignkey')
        op.drop_column('residents', 'shelter_id')
    op.drop_index(op.f('ix_shelter_staff_shelter_id'), table_name='shelter_staff')
    op.drop_table('shelter_staff')
