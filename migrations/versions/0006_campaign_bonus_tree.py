"""campaign bonus trees: each campaign's published Merkle distribution, with every resident's proof

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# a uint over its full range, lossless (ledger.bonus._BigUint, as indexer.models.BigUint)
BIG_UINT = sa.Numeric(precision=78, scale=0).with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "campaign_bonus_tree",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("total", BIG_UINT, nullable=False),
        sa.Column("leaf_count", sa.Integer(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("published_at", sa.Float(), nullable=False),
        sa.Column("posted_tx_hash", sa.String(length=66), nullable=True),
        sa.PrimaryKeyConstraint("chain_id", "campaign_id"),
    )
    op.create_table(
        "campaign_bonus_leaf",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("amount", BIG_UINT, nullable=False),
        sa.Column("tree_index", sa.Integer(), nullable=False),
        sa.Column("proof", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chain_id", "campaign_id"],
            ["campaign_bonus_tree.chain_id", "campaign_bonus_tree.campaign_id"],
        ),
        sa.PrimaryKeyConstraint("chain_id", "campaign_id", "resident"),
    )


def downgrade() -> None:
    op.drop_table("campaign_bonus_leaf")
    op.drop_table("campaign_bonus_tree")
