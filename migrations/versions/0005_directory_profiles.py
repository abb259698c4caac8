"""directory profiles: off-chain names of partners, causes and campaigns; the demo seed marker

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_profile",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("metadata_hash", sa.String(length=66), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "kind", "key"),
    )
    op.create_table(
        "demo_seed",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("contract", sa.String(length=42), nullable=False),
        sa.Column("partner", sa.String(length=42), nullable=False),
        sa.Column("cause_id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("seeded_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "contract"),
    )


def downgrade() -> None:
    op.drop_table("demo_seed")
    op.drop_table("directory_profile")
