"""the event's own content in several languages: event and topic translations

Revision ID: 5d1f8e2a9c47
Revises: 5d2f8a61c3b7
Create Date: 2026-12-02 10:00:00

An event's title, description, place and policy, and its topics' names, may be given
in other languages than the one they were written in; phones, the board and the
privacy page show the reader's language when it is there. Existing rows get an empty
map: their content stays as it is, in every language.

Both directions alter the tables in place (ADD / DROP COLUMN, SQLite 3.35 or later),
never by copying them: on SQLite, dropping the old copy of ``events`` would cascade
to every topic, question and log entry of the events.
"""
from alembic import op
import sqlalchemy as sa


revision = '5d1f8e2a9c47'
down_revision = '5d2f8a61c3b7'
branch_labels = None
depends_on = None

TABLES = ('events', 'topics')


def upgrade():
    for table in TABLES:
        # A literal default (not an SQL expression), so SQLite adds the column in place.
        op.add_column(table, sa.Column('translations', sa.JSON(), nullable=False,
                                       server_default='{}'))


def downgrade():
    for table in reversed(TABLES):
        op.drop_column(table, 'translations')
