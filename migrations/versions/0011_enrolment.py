"""enrolment: the EnrolmentRegistry's events (resident_enrolment, resident_withdrawal), who counts as a
resident now (enrolment), enrolment requests in the outbox, residents' SIWE nonces and sessions

The indexer keeps every raw log of the deployment's contracts; the new event tables and the
`enrolment` state are built from them (a new derived table is rebuilt at start-up, docs/indexer.md).
A deployment from before the registry existed is redeployed (ledger/deploy.py checks every contract).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _position() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
    ]


_KEY = ("chain_id", "block_number", "log_index", "block_hash")


def upgrade() -> None:
    op.create_table(
        "resident_enrolment",
        *_position(),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("enroller", sa.String(length=42), nullable=False),
        sa.Column("party", sa.String(length=66), nullable=False),
        sa.Column("evidence_hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint(*_KEY),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_resident_enrolment_resident", "resident_enrolment", ["resident"])
    op.create_index("ix_resident_enrolment_party", "resident_enrolment", ["party"])
    op.create_index("ix_resident_enrolment_enroller", "resident_enrolment", ["enroller"])
    op.create_table(
        "resident_withdrawal",
        *_position(),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("by_address", sa.String(length=42), nullable=False),
        sa.Column("party", sa.String(length=66), nullable=False),
        sa.Column("reason_code", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*_KEY),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_resident_withdrawal_resident", "resident_withdrawal", ["resident"])
    op.create_table(
        "enrolment",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("enrolled", sa.Boolean(), nullable=False),
        sa.Column("party", sa.String(length=66), nullable=False),
        sa.Column("enroller", sa.String(length=42), nullable=False),
        sa.Column("evidence_hash", sa.String(length=66), nullable=False),
        sa.Column("enrolled_block", sa.BigInteger(), nullable=False),
        sa.Column("enrolled_tx", sa.String(length=66), nullable=False),
        sa.Column("withdrawn_by", sa.String(length=42), nullable=True),
        sa.Column("reason_code", sa.Integer(), nullable=True),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "resident"),
    )
    op.create_index("ix_enrolment_party", "enrolment", ["party"])
    op.create_table(
        "enrolment_request",
        sa.Column("action_id", sa.String(length=66), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("party", sa.String(length=66), nullable=False),
        sa.Column("evidence_hash", sa.String(length=66), nullable=False),
        sa.Column("enroller", sa.String(length=42), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("action_id", "resident"),
    )
    op.create_index("ix_enrolment_request_resident", "enrolment_request", ["resident"])
    op.create_table(
        "resident_siwe_nonce",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("used_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("nonce"),
    )
    op.create_index("ix_resident_siwe_nonce_expires_at", "resident_siwe_nonce", ["expires_at"])
    op.create_table(
        "resident_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_resident_session_address", "resident_session", ["address"])
    op.create_index("ix_resident_session_expires_at", "resident_session", ["expires_at"])


def downgrade() -> None:
    for table, indexes in (
        ("resident_session", ("ix_resident_session_expires_at", "ix_resident_session_address")),
        ("resident_siwe_nonce", ("ix_resident_siwe_nonce_expires_at",)),
        ("enrolment_request", ("ix_enrolment_request_resident",)),
        ("enrolment", ("ix_enrolment_party",)),
        ("resident_withdrawal", ("ix_resident_withdrawal_resident",)),
        (
            "resident_enrolment",
            (
                "ix_resident_enrolment_enroller",
                "ix_resident_enrolment_party",
                "ix_resident_enrolment_resident",
            ),
        ),
    ):
        for index in indexes:
            op.drop_index(index, table_name=table)
        op.drop_table(table)
