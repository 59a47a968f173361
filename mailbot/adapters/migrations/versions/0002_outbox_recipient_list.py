"""outbox.recipient holds a staff list: one notice goes to every petugas in one mail

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 20:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('recipient', existing_type=sa.String(length=320), type_=sa.Text(),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('recipient', existing_type=sa.Text(), type_=sa.String(length=320),
                              existing_nullable=False)
