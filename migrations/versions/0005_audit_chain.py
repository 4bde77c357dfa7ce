"""audit log: hash chain (prev_hash, hash), and a wall against TRUNCATE on PostgreSQL

Revision ID: 0005_audit_chain
Revises: 0004_form_submissions
Create Date: 2026-11-25 12:00:00

Each audit event carries the SHA-256 of its content and of the event before it; events already
written are chained here, in id order. A unique index on prev_hash keeps the chain from forking.
On PostgreSQL a statement-level trigger refuses TRUNCATE (row triggers do not fire on it); the
app's own role gets no TRUNCATE, UPDATE or DELETE on the table at all (`shelter-app db
create-app-role`), so the triggers are the second wall, against the owner's mistakes.
"""
import hashlib
import json
from datetime import timezone

from alembic import op
import sqlalchemy as sa


revision = '0005_audit_chain'
down_revision = '0004_form_submissions'
branch_labels = None
depends_on = None

# A frozen copy of shelter_app.audit.chain's hash as of this revision (tests/audit checks they agree).
GENESIS = "0" * 64


def _event_hash(prev_hash, at, actor_id, action, target_type, target_id, details):
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    content = {
        "prev_hash": prev_hash,
        "at": at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": actor_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "details": details,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


_SQLITE_TRIGGERS = {
    verb: f"""
        CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END
    """
    for verb in ("UPDATE", "DELETE")
}


def _lift_row_triggers(postgresql):
    """The owner writes the hashes of existing rows: the append-only triggers are lifted meanwhile."""
    if postgresql:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
    else:
        for verb in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER audit_events_no_{verb.lower()}")


def _restore_row_triggers(postgresql):
    if postgresql:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change")
    else:
        for sql in _SQLITE_TRIGGERS.values():
            op.execute(sql)


def _chain_existing_rows():
    bind = op.get_bind()
    events = sa.table(
        'audit_events',
        sa.column('id', sa.Integer()), sa.column('at', sa.DateTime(timezone=True)),
        sa.column('actor_id', sa.Integer()), sa.column('action', sa.String()),
        sa.column('target_type', sa.String()), sa.column('target_id', sa.Integer()),
        sa.column('details', sa.JSON()), sa.column('prev_hash', sa.String()), sa.column('hash', sa.String()),
    )
    prev, after = GENESIS, 0
    while True:
        rows = bind.execute(sa.select(events).where(events.c.id > after).order_by(events.c.id).limit(1000)).all()
        if not rows:
            return
        for row in rows:
            details = row.details if row.details is not None else {}
            digest = _event_hash(prev, row.at, row.actor_id, row.action, row.target_type, row.target_id, details)
            bind.execute(events.update().where(events.c.id == row.id).values(prev_hash=prev, hash=digest))
            prev = digest
        after = rows[-1].id


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column('audit_events', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_events', sa.Column('hash', sa.String(length=64), nullable=True))
    _lift_row_triggers(postgresql)
    _chain_existing_rows()
    # SQLite rebuilds the table to make the columns NOT NULL: its triggers are still lifted here.
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index('ix_audit_events_prev_hash', ['prev_hash'], unique=True)
    _restore_row_triggers(postgresql)
    if postgresql:
        op.execute("""
            CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
            FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
        """)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
    _lift_row_triggers(postgresql)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_prev_hash')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
    _restore_row_triggers(postgresql)
