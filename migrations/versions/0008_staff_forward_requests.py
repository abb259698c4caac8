"""staff forward requests: the StaffForwarder's ExecutedForwardRequest, one row per staff request it ran

The called contract's own event (moderation, verification, a role grant, …) names the staff member
and goes to its table and the admin log as before; this table records that the forwarder ran the
member's request `nonce`, and whether its call succeeded. The indexer already keeps the forwarder's
raw logs, so the new table is filled from them (replay) without the node.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# a uint over its full range, lossless (indexer.models.BigUint)
BIG_UINT = sa.Numeric(precision=78, scale=0).with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "staff_forward_request",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("nonce", BIG_UINT, nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_staff_forward_request_signer", "staff_forward_request", ["signer"])


def downgrade() -> None:
    op.drop_index("ix_staff_forward_request_signer", table_name="staff_forward_request")
    op.drop_table("staff_forward_request")
