"""initial schema: outbox and mirror

Revision ID: 0001
Revises:
Create Date: 2026-11-22 04:34:57.417031
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "action_failure",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract", sa.String(length=42), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain_id", "block_hash", "log_index", name="uq_action_failure_log"),
    )
    with op.batch_alter_table("action_failure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_failure_block_number"), ["block_number"], unique=False)
        batch_op.create_index("ix_action_failure_digest", ["digest"], unique=False)

    op.create_table(
        "indexed_block",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "number"),
    )
    op.create_table(
        "indexer_cursor",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id"),
    )
    op.create_table(
        "plogging_session",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("distance_meters", sa.BigInteger(), nullable=False),
        sa.Column("duration_seconds", sa.BigInteger(), nullable=False),
        sa.Column("trash_grams", sa.BigInteger(), nullable=False),
        sa.Column("area_code", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("evidence_hash", sa.String(length=66), nullable=False),
        sa.Column("reward", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain_id", "block_hash", "log_index", name="uq_plogging_session_log"),
    )
    with op.batch_alter_table("plogging_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plogging_session_block_number"), ["block_number"], unique=False)
        batch_op.create_index("ix_plogging_session_digest", ["digest"], unique=False)
        batch_op.create_index("ix_plogging_session_resident", ["resident"], unique=False)

    op.create_table(
        "relay_tx",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("max_fee", sa.BigInteger(), nullable=False),
        sa.Column("priority_fee", sa.BigInteger(), nullable=False),
        sa.Column("gas_limit", sa.BigInteger(), nullable=False),
        sa.Column("action_count", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tx_hash"),
    )
    with op.batch_alter_table("relay_tx", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relay_tx_sender"), ["sender"], unique=False)
        batch_op.create_index("ix_relay_tx_status", ["status"], unique=False)

    op.create_table(
        "relayer_account",
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("next_nonce", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("address"),
    )
    op.create_table(
        "resident_nonce",
        sa.Column("contract", sa.String(length=42), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("next_nonce", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("contract", "resident"),
    )
    op.create_table(
        "token_transfer",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=42), nullable=False),
        sa.Column("from_address", sa.String(length=42), nullable=False),
        sa.Column("to_address", sa.String(length=42), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain_id", "block_hash", "log_index", name="uq_token_transfer_log"),
    )
    with op.batch_alter_table("token_transfer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_token_transfer_block_number"), ["block_number"], unique=False)
        batch_op.create_index("ix_token_transfer_from", ["from_address"], unique=False)
        batch_op.create_index("ix_token_transfer_to", ["to_address"], unique=False)

    op.create_table(
        "action",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("contract", sa.String(length=42), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("deadline", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.String(length=66), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tx_id", sa.Integer(), nullable=True),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("log_index", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tx_id"],
            ["relay_tx.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_resident"), ["resident"], unique=False)
        batch_op.create_index("ix_action_status_created", ["status", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_tx_id"), ["tx_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_tx_id"))
        batch_op.drop_index("ix_action_status_created")
        batch_op.drop_index(batch_op.f("ix_action_resident"))

    op.drop_table("action")
    with op.batch_alter_table("token_transfer", schema=None) as batch_op:
        batch_op.drop_index("ix_token_transfer_to")
        batch_op.drop_index("ix_token_transfer_from")
        batch_op.drop_index(batch_op.f("ix_token_transfer_block_number"))

    op.drop_table("token_transfer")
    op.drop_table("resident_nonce")
    op.drop_table("relayer_account")
    with op.batch_alter_table("relay_tx", schema=None) as batch_op:
        batch_op.drop_index("ix_relay_tx_status")
        batch_op.drop_index(batch_op.f("ix_relay_tx_sender"))

    op.drop_table("relay_tx")
    with op.batch_alter_table("plogging_session", schema=None) as batch_op:
        batch_op.drop_index("ix_plogging_session_resident")
        batch_op.drop_index("ix_plogging_session_digest")
        batch_op.drop_index(batch_op.f("ix_plogging_session_block_number"))

    op.drop_table("plogging_session")
    op.drop_table("indexer_cursor")
    op.drop_table("indexed_block")
    with op.batch_alter_table("action_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_action_failure_digest")
        batch_op.drop_index(batch_op.f("ix_action_failure_block_number"))

    op.drop_table("action_failure")
