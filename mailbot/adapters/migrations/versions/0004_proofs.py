"""proof_readings: the queue of payment-proof files read after the mail's commit, and their readings

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-07 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'proof_readings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=True),
        sa.Column('message_id', sa.String(length=998), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('then', sa.Text(), nullable=False),
        sa.Column('notify_by', sa.DateTime(timezone=True), nullable=False),
        sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('method', sa.String(length=12), nullable=False),
        sa.Column('result', sa.Text(), nullable=False),
        sa.Column('ref_key', sa.String(length=80), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ),
        sa.ForeignKeyConstraint(['file_id'], ['files.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('proof_readings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proof_readings_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proof_readings_ref_key'), ['ref_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_proof_readings_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('proof_readings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proof_readings_status'))
        batch_op.drop_index(batch_op.f('ix_proof_readings_ref_key'))
        batch_op.drop_index(batch_op.f('ix_proof_readings_case_id'))
    op.drop_table('proof_readings')
