"""partners' API keys (SHA-256 of the key, scopes, who issued and revoked them) and the redemptions a
partner accepted at its desk

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_key",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("partner", sa.String(length=42), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("last_used_at", sa.Float(), nullable=True),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_partner_key_partner", "partner_key", ["partner"])
    op.create_table(
        "partner_redemption",
        sa.Column("action_id", sa.String(length=66), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("partner", sa.String(length=42), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("offer_hash", sa.String(length=66), nullable=False),
        sa.Column("accepted_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("action_id"),
    )
    op.create_index("ix_partner_redemption_partner", "partner_redemption", ["partner"])
    op.create_index("ix_partner_redemption_accepted_at", "partner_redemption", ["accepted_at"])


def downgrade() -> None:
    op.drop_index("ix_partner_redemption_accepted_at", table_name="partner_redemption")
    op.drop_index("ix_partner_redemption_partner", table_name="partner_redemption")
    op.drop_table("partner_redemption")
    op.drop_index("ix_partner_key_partner", table_name="partner_key")
    op.drop_table("partner_key")
