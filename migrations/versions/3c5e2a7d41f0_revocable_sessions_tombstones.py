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
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False,
                                      server_default='0'))
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.alter_column('key', existing_type=sa.String(length=64),
                              type_=sa.String(length=80), existing_nullable=True)
        batch_op.add_column(sa.Column('forgotten', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('moderation_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_code', sa.String(length=32), nullable=True))
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
    with op.batch_alter_table('moderation_log', schema=None) as batch_op:
        batch_op.drop_column('reason_code')
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('forgotten')
        batch_op.alter_column('key', existing_type=sa.String(length=80),
                              type_=sa.String(length=64), existing_nullable=True)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
