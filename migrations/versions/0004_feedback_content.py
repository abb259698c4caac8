"""feedback content: the text of residents' feedback, erasable, keyed by its on-chain hash

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback_content",
        sa.Column("content_hash", sa.String(length=66), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("salt", sa.String(length=66), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("erased_at", sa.Float(), nullable=True),
        sa.Column("erase_reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("content_hash"),
    )
    op.create_index("ix_feedback_content_resident", "feedback_content", ["resident"])


def downgrade() -> None:
    op.drop_index("ix_feedback_content_resident", table_name="feedback_content")
    op.drop_table("feedback_content")
