"""relayer attempts, action events, custodial wallets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:57:55.738319
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_IN_FLIGHT = sa.text("status IN ('signed', 'broadcast')")
_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    op.create_table(
        "action_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.String(length=66), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("tx_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("action_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_event_action_id"), ["action_id"], unique=False)

    op.create_table(
        "custodial_wallet",
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("exported_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("subject"),
        sa.UniqueConstraint("address"),
    )
    op.create_table(
        "relay_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tx_id", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("max_fee", sa.BigInteger(), nullable=False),
        sa.Column("priority_fee", sa.BigInteger(), nullable=False),
        sa.Column("noop", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["tx_id"], ["relay_tx.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("relay_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relay_attempt_tx_id"), ["tx_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_relay_attempt_tx_hash"), ["tx_hash"], unique=False)

    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.create_index("ix_action_resident_created", ["resident", "created_at"], unique=False)

    # The same signed bytes may be stored again for a nonce (after a rewind, or a refusal), so the
    # hash stops being unique; 0001 left that constraint unnamed, which each database names its way.
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("relay_tx_tx_hash_key", "relay_tx", type_="unique")
    else:
        with op.batch_alter_table("relay_tx", naming_convention=_NAMES) as batch_op:
            batch_op.drop_constraint("uq_relay_tx_tx_hash", type_="unique")
    with op.batch_alter_table("relay_tx", schema=None) as batch_op:
        batch_op.create_index("ix_relay_tx_tx_hash", ["tx_hash"], unique=False)
        batch_op.add_column(
            sa.Column("kind", sa.String(length=32), nullable=False, server_default="plogging")
        )
        batch_op.add_column(sa.Column("block_hash", sa.String(length=66), nullable=True))
        batch_op.add_column(sa.Column("broadcasts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("valid_until", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("sent_at", sa.Float(), nullable=True))
        batch_op.create_index("ix_relay_tx_block_number", ["block_number"], unique=False)
        batch_op.create_index(
            "uq_relay_tx_in_flight_nonce",
            ["sender", "nonce"],
            unique=True,
            sqlite_where=_IN_FLIGHT,
            postgresql_where=_IN_FLIGHT,
        )

    # Transactions written by 0.1 had exactly one hash each: it becomes their only attempt.
    op.execute(
        "INSERT INTO relay_attempt (tx_id, tx_hash, max_fee, priority_fee, noop, status, created_at) "
        "SELECT id, tx_hash, max_fee, priority_fee, false, "
        "CASE WHEN status = 'mined' THEN 'mined' ELSE 'sent' END, created_at FROM relay_tx"
    )


def downgrade() -> None:
    with op.batch_alter_table("relay_tx", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_relay_tx_in_flight_nonce", sqlite_where=_IN_FLIGHT, postgresql_where=_IN_FLIGHT
        )
        batch_op.drop_index("ix_relay_tx_block_number")
        batch_op.drop_index("ix_relay_tx_tx_hash")
        batch_op.create_unique_constraint("uq_relay_tx_tx_hash", ["tx_hash"])
        batch_op.drop_column("sent_at")
        batch_op.drop_column("valid_until")
        batch_op.drop_column("broadcasts")
        batch_op.drop_column("block_hash")
        batch_op.drop_column("kind")

    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_index("ix_action_resident_created")

    with op.batch_alter_table("relay_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relay_attempt_tx_hash"))
        batch_op.drop_index(batch_op.f("ix_relay_attempt_tx_id"))

    op.drop_table("relay_attempt")
    op.drop_table("custodial_wallet")
    with op.batch_alter_table("action_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_event_action_id"))

    op.drop_table("action_event")
