"""hostile mail (issue 14): outbox recipients as a list, the sender who caused each mail, inbound content hash

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 09:30:00
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipients', sa.Text(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('cause', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('cause_domain', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_cause'), ['cause'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_cause_domain'), ['cause_domain'], unique=False)
    with op.batch_alter_table('inbound', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_sha256', sa.String(length=64), nullable=True))
    # Rows written before: their recipient field was a list joined by ", " (addresses were not yet
    # checked, so a quoted local part could hold that separator; such a row is split as the old
    # sender split it, which is what it would have been sent to).
    conn = op.get_bind()
    outbox = sa.table('outbox', sa.column('id', sa.Integer), sa.column('recipient', sa.Text),
                      sa.column('recipients', sa.Text))
    rows = conn.execute(sa.select(outbox.c.id, outbox.c.recipient)).all()
    for row_id, recipient in rows:
        conn.execute(outbox.update().where(outbox.c.id == row_id)
                     .values(recipients=json.dumps(recipient.split(", "), ensure_ascii=False)))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('recipients', existing_type=sa.Text(), server_default=None, existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound', schema=None) as batch_op:
        batch_op.drop_column('content_sha256')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_cause_domain'))
        batch_op.drop_index(batch_op.f('ix_outbox_cause'))
        batch_op.drop_column('cause_domain')
        batch_op.drop_column('cause')
        batch_op.drop_column('recipients')
