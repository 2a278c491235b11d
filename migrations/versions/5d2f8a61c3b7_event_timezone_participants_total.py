"""event time zone and participants total

Revision ID: 5d2f8a61c3b7
Revises: 5d8e1f2a9c47
Create Date: 2026-11-29 16:20:00

``events.timezone`` is the IANA zone the reports show times in (UTC by default).
``events.participants_total`` counts everyone who took part, kept when the retention
purge removes the links between posts and participants; it starts from the distinct
participants who asked, commented or voted so far.
"""
from alembic import op
import sqlalchemy as sa


revision = '5d2f8a61c3b7'
down_revision = '5d8e1f2a9c47'
branch_labels = None
depends_on = None

PEOPLE = sa.text(
    "SELECT COUNT(*) FROM ("
    " SELECT q.participant_id AS p FROM questions q"
    "  WHERE q.event_id = :event AND q.participant_id IS NOT NULL"
    " UNION SELECT c.participant_id FROM comments c JOIN questions q ON q.id = c.question_id"
    "  WHERE q.event_id = :event AND c.participant_id IS NOT NULL"
    " UNION SELECT v.participant_id FROM votes v JOIN questions q ON q.id = v.question_id"
    "  WHERE q.event_id = :event"
    ") AS people"
)


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=False,
                                      server_default='UTC'))
        batch_op.add_column(sa.Column('participants_total', sa.Integer(), nullable=False,
                                      server_default='0'))
    bind = op.get_bind()
    for (event_id,) in bind.execute(sa.text("SELECT id FROM events")).all():
        total = bind.execute(PEOPLE, {"event": event_id}).scalar() or 0
        bind.execute(sa.text("UPDATE events SET participants_total = :n WHERE id = :event"),
                     {"n": total, "event": event_id})


def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('participants_total')
        batch_op.drop_column('timezone')
