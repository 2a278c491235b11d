"""revocable staff sessions, keyed participant keys, forget-me tombstones, reason codes

Revision ID: 3c5e2a7d41f0
Revises: 9b1ed485688c
Create Date: 2026-11-29 15:40:00

Participant keys were plain SHA-256 digests; they are now HMACs keyed with the app's
secret. A digest cannot be turned into an HMAC without the cookie's token, so the
existing keys are marked ``legacy:`` and each is rewritten the next time its phone
comes back (discussion.identity); retention purges the ones that never do.
"""
from alembic import op
import sqlalchemy as sa


revision = '3c5e2a7d41f0'
down_revision = '9b1ed485688c'
branch_labels = None
depends_on = None


def upgrade():
    # Columns are added in place (ALTER TABLE ADD COLUMN): a batch copy of a table on
    # SQLite would drop the old one with foreign keys on, and take votes with it.
    op.add_column('users', sa.Column('session_version', sa.Integer(), nullable=False,
                                     server_default='0'))
    op.add_column('participants', sa.Column('forgotten', sa.Boolean(), nullable=False,
                                            server_default=sa.false()))
    op.add_column('moderation_log', sa.Column('reason_code', sa.String(length=32),
                                              nullable=True))
    if op.get_bind().dialect.name != 'sqlite':  # SQLite does not enforce lengths
        op.alter_column('participants', 'key', existing_type=sa.String(length=64),
                        type_=sa.String(length=80), existing_nullable=True)
    op.execute(
        "UPDATE participants SET key = 'legacy:' || key WHERE key IS NOT NULL"
    )


def downgrade():
    op.execute(
        "UPDATE participants SET key = NULL WHERE key IS NOT NULL AND key NOT LIKE 'legacy:%'"
    )
    op.execute(
        "UPDATE participants SET key = substr(key, 8) WHERE key LIKE 'legacy:%'"
    )
    if op.get_bind().dialect.name != 'sqlite':
        op.alter_column('participants', 'key', existing_type=sa.String(length=80),
                        type_=sa.String(length=64), existing_nullable=True)
    # DROP COLUMN in place (SQLite 3.35+), for the same reason as above.
    op.drop_column('moderation_log', 'reason_code')
    op.drop_column('participants', 'forgotten')
    op.drop_column('users', 'session_version')
