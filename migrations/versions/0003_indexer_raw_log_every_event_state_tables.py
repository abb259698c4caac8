"""indexer: raw log, every event, state tables

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 05:13:59.932037
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# a uint over its full range, lossless (indexer.models.BigUint)
BIG_UINT = sa.Numeric(precision=78, scale=0).with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    # The first mirror kept three event kinds, keyed by a surrogate id, and no raw logs. Its rows go
    # with the cursor: the indexer fetches the chain once more from the deployment block, this time
    # keeping every raw log, so no later handler change needs the node (docs/indexer.md).
    op.execute("DELETE FROM indexer_cursor")
    op.execute("DELETE FROM indexed_block")
    for name in ("action_failure", "plogging_session", "token_transfer"):
        op.drop_table(name)
    op.create_table(
        "action_failure",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("contract", sa.String(length=42), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("nonce", BIG_UINT, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("action_failure", schema=None) as batch_op:
        batch_op.create_index("ix_action_failure_digest", ["digest"], unique=False)

    op.create_table(
        "admin_action",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("contract", sa.String(length=42), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=42), nullable=False),
        sa.Column("subject", sa.String(length=66), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("admin_action", schema=None) as batch_op:
        batch_op.create_index("ix_admin_action_action", ["action"], unique=False)
        batch_op.create_index("ix_admin_action_actor", ["actor"], unique=False)

    op.create_table(
        "balance",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(length=42), nullable=False),
        sa.Column("holder", sa.String(length=42), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "token", "holder"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "bonus_claim",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("bonus_claim", schema=None) as batch_op:
        batch_op.create_index("ix_bonus_claim_campaign_id", ["campaign_id"], unique=False)
        batch_op.create_index("ix_bonus_claim_resident", ["resident"], unique=False)

    op.create_table(
        "campaign",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", BIG_UINT, nullable=False),
        sa.Column("ends_at", BIG_UINT, nullable=False),
        sa.Column("metric", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("goal", BIG_UINT, nullable=False),
        sa.Column("progress", BIG_UINT, nullable=False),
        sa.Column("metadata_hash", sa.String(length=66), nullable=False),
        sa.Column("bonus_root", sa.String(length=66), nullable=False),
        sa.Column("bonus_total", sa.BigInteger(), nullable=False),
        sa.Column("bonus_claimed", sa.BigInteger(), nullable=False),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "campaign_id"),
    )
    op.create_table(
        "campaign_bonus_set",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("by_address", sa.String(length=42), nullable=False),
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("campaign_bonus_set", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_bonus_set_campaign_id", ["campaign_id"], unique=False)

    op.create_table(
        "campaign_creation",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("by_address", sa.String(length=42), nullable=False),
        sa.Column("starts_at", BIG_UINT, nullable=False),
        sa.Column("ends_at", BIG_UINT, nullable=False),
        sa.Column("metric", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("goal", BIG_UINT, nullable=False),
        sa.Column("progress", BIG_UINT, nullable=False),
        sa.Column("metadata_hash", sa.String(length=66), nullable=False),
        sa.Column("bonus_root", sa.String(length=66), nullable=False),
        sa.Column("bonus_total", sa.BigInteger(), nullable=False),
        sa.Column("bonus_claimed", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("campaign_creation", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_creation_campaign_id", ["campaign_id"], unique=False)

    op.create_table(
        "campaign_finalization",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("by_address", sa.String(length=42), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("progress", BIG_UINT, nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("campaign_finalization", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_finalization_campaign_id", ["campaign_id"], unique=False)

    op.create_table(
        "campaign_progress_report",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("by_address", sa.String(length=42), nullable=False),
        sa.Column("progress", BIG_UINT, nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("campaign_progress_report", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_progress_report_campaign_id", ["campaign_id"], unique=False)

    op.create_table(
        "cause",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("cause_id", sa.BigInteger(), nullable=False),
        sa.Column("wallet", sa.String(length=42), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("metadata_hash", sa.String(length=66), nullable=False),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "cause_id"),
    )
    op.create_table(
        "cause_set",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("cause_id", sa.BigInteger(), nullable=False),
        sa.Column("by_address", sa.String(length=42), nullable=False),
        sa.Column("wallet", sa.String(length=42), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("metadata_hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("cause_set", schema=None) as batch_op:
        batch_op.create_index("ix_cause_set_cause_id", ["cause_id"], unique=False)

    op.create_table(
        "contract_pause",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("contract", sa.String(length=42), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("by_address", sa.String(length=42), nullable=False),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "contract"),
    )
    op.create_table(
        "derived_version",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "donation",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("cause_id", sa.BigInteger(), nullable=False),
        sa.Column("wallet", sa.String(length=42), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("nonce", BIG_UINT, nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("donation", schema=None) as batch_op:
        batch_op.create_index("ix_donation_cause_id", ["cause_id"], unique=False)
        batch_op.create_index("ix_donation_resident", ["resident"], unique=False)

    op.create_table(
        "feedback_answer",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("reviewer", sa.String(length=42), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("answer_hash", sa.String(length=66), nullable=False),
        sa.Column("reward", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("feedback_answer", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_answer_item_id", ["item_id"], unique=False)

    op.create_table(
        "feedback_answer_required",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("support_count", sa.BigInteger(), nullable=False),
        sa.Column("due_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("feedback_answer_required", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_answer_required_item_id", ["item_id"], unique=False)

    op.create_table(
        "feedback_category",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "category"),
    )
    op.create_table(
        "feedback_category_set",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("category", sa.Integer(), nullable=False),
        sa.Column("by_address", sa.String(length=42), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("feedback_category_set", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_category_set_category", ["category"], unique=False)

    op.create_table(
        "feedback_closure",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("reviewer", sa.String(length=42), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("feedback_closure", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_closure_item_id", ["item_id"], unique=False)

    op.create_table(
        "feedback_item",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("author", sa.String(length=42), nullable=False),
        sa.Column("category", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.BigInteger(), nullable=False),
        sa.Column("content_hash", sa.String(length=66), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("support_count", sa.BigInteger(), nullable=False),
        sa.Column("answer_due_at", sa.BigInteger(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=True),
        sa.Column("answer_hash", sa.String(length=66), nullable=True),
        sa.Column("reward", sa.BigInteger(), nullable=True),
        sa.Column("submitted_block", sa.BigInteger(), nullable=False),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "item_id"),
    )
    with op.batch_alter_table("feedback_item", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_item_author", ["author"], unique=False)

    op.create_table(
        "feedback_moderation",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("moderator", sa.String(length=42), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("reason_code", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("feedback_moderation", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_moderation_item_id", ["item_id"], unique=False)

    op.create_table(
        "feedback_review_start",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("reviewer", sa.String(length=42), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("feedback_review_start", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_review_start_item_id", ["item_id"], unique=False)

    op.create_table(
        "feedback_reward_update",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("by_address", sa.String(length=42), nullable=False),
        sa.Column("reward", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "feedback_settings_update",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("by_address", sa.String(length=42), nullable=False),
        sa.Column("support_threshold", sa.BigInteger(), nullable=False),
        sa.Column("answer_window_seconds", sa.BigInteger(), nullable=False),
        sa.Column("max_submissions_per_day", sa.Integer(), nullable=False),
        sa.Column("max_supports_per_day", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "feedback_submission",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("category", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.BigInteger(), nullable=False),
        sa.Column("content_hash", sa.String(length=66), nullable=False),
        sa.Column("nonce", BIG_UINT, nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("feedback_submission", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_submission_item_id", ["item_id"], unique=False)
        batch_op.create_index("ix_feedback_submission_resident", ["resident"], unique=False)

    op.create_table(
        "feedback_support",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("support_count", sa.BigInteger(), nullable=False),
        sa.Column("nonce", BIG_UINT, nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("feedback_support", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_support_item_id", ["item_id"], unique=False)
        batch_op.create_index("ix_feedback_support_resident", ["resident"], unique=False)

    op.create_table(
        "group_failure",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("group_index", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "partner",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("partner", sa.String(length=42), nullable=False),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("burn_on_redeem", sa.Boolean(), nullable=False),
        sa.Column("expires_at", BIG_UINT, nullable=False),
        sa.Column("metadata_hash", sa.String(length=66), nullable=False),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "partner"),
    )
    op.create_table(
        "partner_removal",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("partner", sa.String(length=42), nullable=False),
        sa.Column("by_address", sa.String(length=42), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("partner_removal", schema=None) as batch_op:
        batch_op.create_index("ix_partner_removal_partner", ["partner"], unique=False)

    op.create_table(
        "partner_set",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("partner", sa.String(length=42), nullable=False),
        sa.Column("by_address", sa.String(length=42), nullable=False),
        sa.Column("burn_on_redeem", sa.Boolean(), nullable=False),
        sa.Column("expires_at", BIG_UINT, nullable=False),
        sa.Column("metadata_hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("partner_set", schema=None) as batch_op:
        batch_op.create_index("ix_partner_set_partner", ["partner"], unique=False)

    op.create_table(
        "pause_event",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("contract", sa.String(length=42), nullable=False),
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("pause_event", schema=None) as batch_op:
        batch_op.create_index("ix_pause_event_contract", ["contract"], unique=False)

    op.create_table(
        "plogging_batch",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("leaf_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("plogging_batch", schema=None) as batch_op:
        batch_op.create_index("ix_plogging_batch_batch_id", ["batch_id"], unique=False)

    op.create_table(
        "plogging_bounds_update",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("by_address", sa.String(length=42), nullable=False),
        sa.Column("min_duration_seconds", sa.BigInteger(), nullable=False),
        sa.Column("max_duration_seconds", sa.BigInteger(), nullable=False),
        sa.Column("max_distance_meters", sa.BigInteger(), nullable=False),
        sa.Column("max_speed_cm_per_second", sa.BigInteger(), nullable=False),
        sa.Column("max_trash_grams", sa.BigInteger(), nullable=False),
        sa.Column("max_age_seconds", sa.BigInteger(), nullable=False),
        sa.Column("max_trash_grams_per_day", sa.BigInteger(), nullable=False),
        sa.Column("max_sessions_per_day", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "plogging_clawback",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("by_address", sa.String(length=42), nullable=False),
        sa.Column("burned", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("plogging_clawback", schema=None) as batch_op:
        batch_op.create_index("ix_plogging_clawback_resident", ["resident"], unique=False)

    op.create_table(
        "plogging_rejection",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("verifier", sa.String(length=42), nullable=False),
        sa.Column("reason_code", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("plogging_rejection", schema=None) as batch_op:
        batch_op.create_index("ix_plogging_rejection_digest", ["digest"], unique=False)

    op.create_table(
        "plogging_review",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("verifier", sa.String(length=42), nullable=False),
        sa.Column("reason_code", sa.Integer(), nullable=True),
        sa.Column("reward", sa.BigInteger(), nullable=False),
        sa.Column("minted", sa.BigInteger(), nullable=True),
        sa.Column("burned", sa.BigInteger(), nullable=True),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "digest"),
    )
    op.create_table(
        "plogging_revocation",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("verifier", sa.String(length=42), nullable=False),
        sa.Column("reason_code", sa.Integer(), nullable=False),
        sa.Column("reward", sa.BigInteger(), nullable=False),
        sa.Column("burned", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("plogging_revocation", schema=None) as batch_op:
        batch_op.create_index("ix_plogging_revocation_digest", ["digest"], unique=False)

    op.create_table(
        "plogging_reward_update",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("by_address", sa.String(length=42), nullable=False),
        sa.Column("per_km", sa.BigInteger(), nullable=False),
        sa.Column("per_100_grams", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "plogging_session",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("nonce", BIG_UINT, nullable=False),
        sa.Column("distance_meters", sa.BigInteger(), nullable=False),
        sa.Column("duration_seconds", sa.BigInteger(), nullable=False),
        sa.Column("trash_grams", sa.BigInteger(), nullable=False),
        sa.Column("area_code", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("evidence_hash", sa.String(length=66), nullable=False),
        sa.Column("reward", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("plogging_session", schema=None) as batch_op:
        batch_op.create_index("ix_plogging_session_digest", ["digest"], unique=False)
        batch_op.create_index("ix_plogging_session_resident", ["resident"], unique=False)

    op.create_table(
        "plogging_thresholds_update",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("by_address", sa.String(length=42), nullable=False),
        sa.Column("max_distance_meters", sa.BigInteger(), nullable=False),
        sa.Column("max_trash_grams", sa.BigInteger(), nullable=False),
        sa.Column("max_reward", BIG_UINT, nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "plogging_verification",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("verifier", sa.String(length=42), nullable=False),
        sa.Column("reward", sa.BigInteger(), nullable=False),
        sa.Column("minted", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("plogging_verification", schema=None) as batch_op:
        batch_op.create_index("ix_plogging_verification_digest", ["digest"], unique=False)

    op.create_table(
        "raw_log",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("topic0", sa.String(length=66), nullable=True),
        sa.Column("topic1", sa.String(length=66), nullable=True),
        sa.Column("topic2", sa.String(length=66), nullable=True),
        sa.Column("topic3", sa.String(length=66), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "redemption",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("partner", sa.String(length=42), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("offer_hash", sa.String(length=66), nullable=False),
        sa.Column("burned", sa.Boolean(), nullable=False),
        sa.Column("nonce", BIG_UINT, nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("redemption", schema=None) as batch_op:
        batch_op.create_index("ix_redemption_partner", ["partner"], unique=False)
        batch_op.create_index("ix_redemption_resident", ["resident"], unique=False)

    op.create_table(
        "resident",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("first_block", sa.BigInteger(), nullable=False),
        sa.Column("first_log_index", sa.Integer(), nullable=False),
        sa.Column("first_tx_hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "address"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.create_index("ix_resident_first_block", ["first_block"], unique=False)

    op.create_table(
        "reward_policy_update",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("by_address", sa.String(length=42), nullable=False),
        sa.Column("per_km", sa.BigInteger(), nullable=False),
        sa.Column("per_100_grams", sa.BigInteger(), nullable=False),
        sa.Column("per_accepted_feedback", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "role_admin_change",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("contract", sa.String(length=42), nullable=False),
        sa.Column("role", sa.String(length=66), nullable=False),
        sa.Column("previous_admin_role", sa.String(length=66), nullable=False),
        sa.Column("new_admin_role", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "role_event",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("contract", sa.String(length=42), nullable=False),
        sa.Column("role", sa.String(length=66), nullable=False),
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("sender", sa.String(length=42), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("role_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_role_event_contract_role_account", ["contract", "role", "account"], unique=False
        )

    op.create_table(
        "role_member",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("contract", sa.String(length=42), nullable=False),
        sa.Column("role", sa.String(length=66), nullable=False),
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("granted_by", sa.String(length=42), nullable=False),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "contract", "role", "account"),
    )
    op.create_table(
        "token_approval",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("token", sa.String(length=42), nullable=False),
        sa.Column("owner", sa.String(length=42), nullable=False),
        sa.Column("spender", sa.String(length=42), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "token_transfer",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("token", sa.String(length=42), nullable=False),
        sa.Column("from_address", sa.String(length=42), nullable=False),
        sa.Column("to_address", sa.String(length=42), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index", "block_hash"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    raise NotImplementedError("the mirror cannot go back to 0001's shape; restore a backup instead")
