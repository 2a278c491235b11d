"""event versions: a change counter per event, stamped on questions, and recent removals

Revision ID: 5d8e1f2a9c47
Revises: 3c5e2a7d41f0
Create Date: 2026-12-02 10:00:00

A reconnecting client sends the last version it saw and is answered with what changed
since (docs/realtime.md). Existing events and questions start at version 0.
"""
from alembic import op
import sqlalchemy as sa


revision = '5d8e1f2a9c47'
down_revision = '3c5e2a7d41f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False,
                                      server_default='0'))
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.create_index('ix_questions_event_version', ['event_id', 'version'],
                              unique=False)
    op.create_table(
        'question_removals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('public', sa.Boolean(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('participant_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'],
                                name=op.f('fk_question_removals_event_id_events'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['participant_id'], ['participants.id'],
                                name=op.f('fk_question_removals_participant_id_participants'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_question_removals')),
    )
    op.create_index('ix_question_removals_event_version', 'question_removals',
                    ['event_id', 'version'], unique=False)


def downgrade():
    op.drop_index('ix_question_removals_event_version', table_name='question_removals')
    op.drop_table('question_removals')
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_index('ix_questions_event_version')
        batch_op.drop_column('version')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('version')
