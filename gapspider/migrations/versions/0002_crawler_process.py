"""the crawl process of a fetch (host and pid), to notice a killed crawl

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('gap_data_fetch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('crawler_host', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('crawler_pid', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('gap_data_fetch', schema=None) as batch_op:
        batch_op.drop_column('crawler_pid')
        batch_op.drop_column('crawler_host')
