"""official answers' text (its keccak256 on chain) and answer templates per language

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback_answer_text",
        sa.Column("answer_hash", sa.String(length=66), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=42), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("answer_hash"),
    )
    op.create_index("ix_feedback_answer_text_item_id", "feedback_answer_text", ["item_id"])
    op.create_table(
        "feedback_answer_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=42), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_feedback_answer_template_language", "feedback_answer_template", ["language"])


def downgrade() -> None:
    op.drop_index("ix_feedback_answer_template_language", table_name="feedback_answer_template")
    op.drop_table("feedback_answer_template")
    op.drop_index("ix_feedback_answer_text_item_id", table_name="feedback_answer_text")
    op.drop_table("feedback_answer_text")
