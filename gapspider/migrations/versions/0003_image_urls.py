"""the URL each downloaded image was fetched from, beside its path

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('product_data', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_urls', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('product_data', schema=None) as batch_op:
        batch_op.drop_column('image_urls')
