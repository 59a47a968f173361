"""complaints: a complaint is recorded on its own, with or without a case (issue 17)

Revision ID: 0006
Revises: 0002
Create Date: 2026-12-03 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'complaints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ref', sa.String(length=32), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('customer', sa.String(length=320), nullable=False),
        sa.Column('customer_name', sa.String(length=200), nullable=False),
        sa.Column('language', sa.String(length=5), nullable=False),
        sa.Column('message_id', sa.String(length=998), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaints_ref'), ['ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_customer'), ['customer'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_message_id'), ['message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaints_message_id'))
        batch_op.drop_index(batch_op.f('ix_complaints_customer'))
        batch_op.drop_index(batch_op.f('ix_complaints_case_id'))
        batch_op.drop_index(batch_op.f('ix_complaints_ref'))
    op.drop_table('complaints')
