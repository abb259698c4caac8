"""the privacy erasure log: who erased which resident's personal data, when, and how many rows of each
table it changed (never the erased data)

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_erasure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("erased_by", sa.String(length=200), nullable=False),
        sa.Column("erased_at", sa.Float(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_privacy_erasure_resident", "privacy_erasure", ["resident"])


def downgrade() -> None:
    op.drop_index("ix_privacy_erasure_resident", table_name="privacy_erasure")
    op.drop_table("privacy_erasure")
