"""the event's own content in several languages: event and topic translations

Revision ID: 5d1f8e2a9c47
Revises: 3c5e2a7d41f0
Create Date: 2026-12-02 10:00:00

An event's title, description, place and policy, and its topics' names, may be given
in other languages than the one they were written in; phones, the board and the
privacy page show the reader's language when it is there. Existing rows get an empty
map: their content stays as it is, in every language.
"""
from alembic import op
import sqlalchemy as sa


revision = '5d1f8e2a9c47'
down_revision = '3c5e2a7d41f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))


def downgrade():
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.drop_column('translations')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('translations')
