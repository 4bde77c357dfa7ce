"""The audit log's hash chain: each event's hash covers its content and the hash of the event before it.

One chain per database, in id order. Events are appended when their transaction commits, under a
lock, so that concurrent writers never fork the chain: on PostgreSQL a transaction-scoped advisory
lock taken just before the last hash is read (under READ COMMITTED, PostgreSQL's default, that read
sees the last commit); on SQLite the database's single write lock (a request holds it from its
first statement, see db.py; elsewhere a writer whose snapshot went stale fails instead of
writing). A unique index on prev_hash is the second wall: two events can never follow the same one.

Appending at commit rather than at record() keeps the lock for milliseconds (not over a page's
rendering) and means a transaction holding it waits for nothing else, so it cannot deadlock
with row locks taken by bed actions.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from .models import AuditEvent

GENESIS = "0" * 64  # prev_hash of the first event
# Key of the PostgreSQL advisory lock that serialises appends (any fixed bigint, unique to this use).
CHAIN_LOCK_KEY = 0x5348_454C_5445_52  # "SHELTER"
_PENDING = "audit_chain_pending"


def utc_iso(at: datetime) -> str:
    """A time as the chain hashes it: UTC, microseconds, 'Z' (SQLite returns naive UTC values)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def plain_json(details: dict) -> dict:
    """details as the database gives them back (string keys, lists, no tuples), so the hash holds."""
    return json.loads(json.dumps(details, allow_nan=False))


def event_hash(prev_hash: str, *, at: datetime, actor_id, action: str, target_type, target_id,
               details: dict) -> str:
    """Hex SHA-256 of an event's content and the previous event's hash (sorted, compact JSON)."""
    content = {
        "prev_hash": prev_hash,
        "at": utc_iso(at),
        "actor_id": actor_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "details": details,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def hash_of(row) -> str:
    """The hash an event (a model instance or a row with the same names) should carry."""
    return event_hash(row.prev_hash, at=row.at, actor_id=row.actor_id, action=row.action,
                      target_type=row.target_type, target_id=row.target_id, details=row.details)


# --- appending ------------------------------------------------------------------------------------

def queue(session: Session, audit_event: AuditEvent) -> None:
    """Append audit_event to the chain when session's transaction commits (dropped if rolled back)."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((transaction, audit_event))


def head_under_lock(session: Session) -> str:
    """Take the chain's lock (held until the transaction ends) and return the last event's hash."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    last = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    return last or GENESIS


@event.listens_for(Session, "before_commit")
def _append_queued(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint is released: its events wait for the real commit
    queued = session.info.pop(_PENDING, None)
    if not queued:
        return
    session.flush()  # everything else first: under the lock this transaction waits for nothing more
    prev = head_under_lock(session)
    for _transaction, audit_event in queued:
        audit_event.prev_hash = prev
        audit_event.hash = prev = hash_of(audit_event)
        session.add(audit_event)
        session.flush()  # one at a time: ids follow the chain


def _inside(transaction, ended) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction) -> None:
    queued = session.info.get(_PENDING)
    if not queued:
        return
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
        return
    session.info[_PENDING] = [(t, e) for t, e in queued if t is None or not _inside(t, previous_transaction)]


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


# --- verifying ------------------------------------------------------------------------------------

@dataclass
class ChainCheck:
    """The result of walking the chain: how many events, the last one, and the first broken one."""

    count: int = 0
    last_id: int | None = None
    head: str = GENESIS
    broken_id: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def verify_chain(session: Session, *, anchors: dict[int, str] | None = None, batch: int = 1000) -> ChainCheck:
    """Walk the chain in id order and report the first event whose hashes do not hold.

    anchors maps event ids to hashes noted earlier outside the database: a chain rewritten from
    some event on (every later hash recomputed) is intact in itself, but no longer has them.
    """
    anchors = dict(anchors or {})
    table = AuditEvent.__table__
    check = ChainCheck()
    expected_prev = GENESIS
    after = None
    while True:
        query = select(table).order_by(table.c.id).limit(batch)
        if after is not None:
            query = query.where(table.c.id > after)
        rows = session.execute(query).all()
        if not rows:
            break
        for row in rows:
            if row.prev_hash != expected_prev:
                before = f"event {check.last_id}" if check.last_id is not None else "the start of the chain"
                return _broken(check, row.id, (
                    f"prev_hash {row.prev_hash} is not the hash of {before} ({expected_prev}): "
                    "an event before it was removed, inserted or rewritten"))
            recomputed = hash_of(row)
            if row.hash != recomputed:
                return _broken(check, row.id, (
                    f"its content does not match its hash (stored {row.hash}, content gives {recomputed}): "
                    "it was changed after it was written"))
            if row.id in anchors and anchors.pop(row.id) != row.hash:
                return _broken(check, row.id, "its hash differs from the one noted for it (--anchor): "
                                              "the chain was rewritten from here or earlier")
            check.count += 1
            check.last_id, check.head = row.id, row.hash
            expected_prev = row.hash
        after = rows[-1].id
    if anchors:
        missing = min(anchors)
        return _broken(check, missing, "it was noted (--anchor) but is no longer in the log")
    return check


def _broken(check: ChainCheck, event_id: int, problem: str) -> ChainCheck:
    check.broken_id, check.problem = event_id, problem
    return check
