"""indexes for the public feedback reads: a resident's items, and the list by status or category,
newest first (`esg-ledger bench api`: without them each of these reads scanned every item of the chain)

Numbered 0013 (reserved for this change) but applied after 0014, the head when it was written.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_INDEXES = {
    "ix_feedback_item_chain_author": ["chain_id", "author", "item_id"],
    "ix_feedback_item_chain_status": ["chain_id", "status", "item_id"],
    "ix_feedback_item_chain_category": ["chain_id", "category", "item_id"],
}


def upgrade() -> None:
    for name, columns in _INDEXES.items():
        op.create_index(name, "feedback_item", columns)


def downgrade() -> None:
    for name in _INDEXES:
        op.drop_index(name, table_name="feedback_item")
