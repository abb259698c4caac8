"""metaverse platforms (hashed tokens, sealed webhook secrets, allowed kinds), webhook deliveries,
custodial wallets bound to their platform

Wallets created before this revision belong to the legacy "default" platform (ESG_PLATFORM_TOKENS)
and keep their address-only associated data (`binding` 1) until they next sign, when custody
re-seals them with subject + platform bound in (`binding` 2). Exported wallets lose their ciphertext.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("kinds", sa.String(length=400), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("rotated_at", sa.Float(), nullable=True),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash", name="uq_platform_token_hash"),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("platform_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("platform_id", "event_id"),
    )
    with op.batch_alter_table("custodial_wallet", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("binding", sa.Integer(), nullable=False, server_default="1"))
        batch_op.alter_column("ciphertext", existing_type=sa.LargeBinary(), nullable=True)
        batch_op.create_index("ix_custodial_wallet_platform_id", ["platform_id"])
    op.execute("UPDATE custodial_wallet SET platform_id = 'default' WHERE platform_id IS NULL")
    op.execute("UPDATE custodial_wallet SET ciphertext = NULL WHERE exported_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("custodial_wallet", schema=None) as batch_op:
        batch_op.drop_index("ix_custodial_wallet_platform_id")
        batch_op.drop_column("binding")
        batch_op.drop_column("platform_id")
    op.drop_table("webhook_delivery")
    op.drop_table("platform")
