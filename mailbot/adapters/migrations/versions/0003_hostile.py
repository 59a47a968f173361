"""hostile mail (issue 14): outbox recipients as a list, the sender who caused each mail, inbound content hash

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 09:30:00
"""
import json
import re

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_PLAIN = re.compile(r'^[^\s"<>(),;:@\\\[\]]+@[^\s"<>(),;:@\\\[\]]+$')


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipients', sa.Text(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('cause', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('cause_domain', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_cause'), ['cause'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_cause_domain'), ['cause_domain'], unique=False)
    with op.batch_alter_table('inbound', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_sha256', sa.String(length=64), nullable=True))
    # Rows written before held a staff list joined by ", ". Addresses were not checked then, so a
    # quoted local part could hold that separator ('"x, victim@evil.com, y"@example.com'): a field is
    # split only when every piece is a plain address; otherwise it stays one recipient, which the
    # sender refuses to hand to SMTP.
    conn = op.get_bind()
    outbox = sa.table('outbox', sa.column('id', sa.Integer), sa.column('recipient', sa.Text),
                      sa.column('recipients', sa.Text))
    rows = conn.execute(sa.select(outbox.c.id, outbox.c.recipient)).all()
    for row_id, recipient in rows:
        pieces = recipient.split(", ")
        if not all(_PLAIN.match(p) for p in pieces):
            pieces = [recipient]
        conn.execute(outbox.update().where(outbox.c.id == row_id)
                     .values(recipients=json.dumps(pieces, ensure_ascii=False)))
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
