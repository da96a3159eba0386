"""initial schema

Revision ID: 0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pages_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pages_group')),
    sa.UniqueConstraint('title', name=op.f('uq_pages_group_title'))
    )
    op.create_table('product',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('style_id', sa.String(length=32), nullable=False),
    sa.Column('cc_id', sa.String(length=32), nullable=False),
    sa.Column('style_name', sa.Text(), nullable=False),
    sa.Column('cc_name', sa.Text(), nullable=False),
    sa.Column('cc_short_description', sa.Text(), nullable=True),
    sa.Column('web_product_type', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product')),
    sa.UniqueConstraint('style_id', 'cc_id', name='uq_product_style_cc')
    )
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_cc_id'), ['cc_id'], unique=False)

    op.create_table('gap_data_fetch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pages_group_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('current_step', sa.String(length=255), nullable=True),
    sa.Column('total_pages', sa.Integer(), server_default='0', nullable=False),
    sa.Column('processed_pages', sa.Integer(), server_default='0', nullable=False),
    sa.Column('total_products', sa.Integer(), server_default='0', nullable=False),
    sa.Column('processed_products', sa.Integer(), server_default='0', nullable=False),
    sa.Column('failed_products', sa.Integer(), server_default='0', nullable=False),
    sa.Column('total_images', sa.Integer(), server_default='0', nullable=False),
    sa.Column('processed_images', sa.Integer(), server_default='0', nullable=False),
    sa.Column('failed_images', sa.Integer(), server_default='0', nullable=False),
    sa.Column('parsed_products', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('error_details', sa.JSON(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('folder_timestamp', sa.String(length=14), nullable=False),
    sa.Column('output_path', sa.Text(), nullable=True),
    sa.Column('scrapyd_job_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['pages_group_id'], ['pages_group.id'], name=op.f('fk_gap_data_fetch_pages_group_id_pages_group'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gap_data_fetch'))
    )
    with op.batch_alter_table('gap_data_fetch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gap_data_fetch_pages_group_id'), ['pages_group_id'], unique=False)
        batch_op.create_index('uq_gap_data_fetch_one_active', ['pages_group_id'], unique=True, postgresql_where=sa.text("status NOT IN ('failed', 'succeeded')"), sqlite_where=sa.text("status NOT IN ('failed', 'succeeded')"))

    op.create_table('gap_page',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pages_group_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('web_page_url', sa.Text(), nullable=False),
    sa.Column('web_page_parameters', sa.JSON(), nullable=False),
    sa.Column('api_url', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['pages_group_id'], ['pages_group.id'], name=op.f('fk_gap_page_pages_group_id_pages_group'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gap_page')),
    sa.UniqueConstraint('pages_group_id', 'title', name='uq_gap_page_group_title')
    )
    with op.batch_alter_table('gap_page', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gap_page_pages_group_id'), ['pages_group_id'], unique=False)

    op.create_table('product_data',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('gap_data_fetch_id', sa.Integer(), nullable=False),
    sa.Column('gap_page_id', sa.Integer(), nullable=True),
    sa.Column('folder_timestamp', sa.String(length=14), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('regular_price', sa.String(length=32), nullable=True),
    sa.Column('effective_price', sa.String(length=32), nullable=True),
    sa.Column('price_type', sa.String(length=8), nullable=True),
    sa.Column('percentage_off', sa.String(length=8), nullable=True),
    sa.Column('inventory_status', sa.String(length=64), nullable=True),
    sa.Column('inventory_count', sa.Integer(), nullable=True),
    sa.Column('review_score', sa.String(length=16), nullable=True),
    sa.Column('review_count', sa.Integer(), nullable=True),
    sa.Column('excluded_from_promotion', sa.Boolean(), nullable=True),
    sa.Column('marketing_flags', sa.JSON(), nullable=False),
    sa.Column('style_marketing_flags', sa.JSON(), nullable=False),
    sa.Column('badges', sa.JSON(), nullable=False),
    sa.Column('listing_data', sa.JSON(), nullable=False),
    sa.Column('api_image_paths', sa.JSON(), nullable=False),
    sa.Column('product_page_url', sa.Text(), nullable=True),
    sa.Column('html_file_path', sa.Text(), nullable=True),
    sa.Column('page_error', sa.Text(), nullable=True),
    sa.Column('page_http_status', sa.Integer(), nullable=True),
    sa.Column('image_paths', sa.JSON(), nullable=False),
    sa.Column('image_errors', sa.JSON(), nullable=False),
    sa.Column('parsed_data', sa.JSON(), nullable=True),
    sa.Column('parse_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['gap_data_fetch_id'], ['gap_data_fetch.id'], name=op.f('fk_product_data_gap_data_fetch_id_gap_data_fetch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['gap_page_id'], ['gap_page.id'], name=op.f('fk_product_data_gap_page_id_gap_page'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_product_data_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_data')),
    sa.UniqueConstraint('gap_data_fetch_id', 'product_id', name='uq_product_data_fetch_product')
    )
    with op.batch_alter_table('product_data', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_data_gap_data_fetch_id'), ['gap_data_fetch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_data_gap_page_id'), ['gap_page_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_data_product_id'), ['product_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('product_data', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_data_product_id'))
        batch_op.drop_index(batch_op.f('ix_product_data_gap_page_id'))
        batch_op.drop_index(batch_op.f('ix_product_data_gap_data_fetch_id'))

    op.drop_table('product_data')
    with op.batch_alter_table('gap_page', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gap_page_pages_group_id'))

    op.drop_table('gap_page')
    with op.batch_alter_table('gap_data_fetch', schema=None) as batch_op:
        batch_op.drop_index('uq_gap_data_fetch_one_active', postgresql_where=sa.text("status NOT IN ('failed', 'succeeded')"), sqlite_where=sa.text("status NOT IN ('failed', 'succeeded')"))
        batch_op.drop_index(batch_op.f('ix_gap_data_fetch_pages_group_id'))

    op.drop_table('gap_data_fetch')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_cc_id'))

    op.drop_table('product')
    op.drop_table('pages_group')
