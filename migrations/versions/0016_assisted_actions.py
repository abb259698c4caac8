"""the service desk's assisted-action log: each action a staff member made for a resident at a desk
(ledger/desk.py), with the desk reference, the member, and the hash of the resident's consent form

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assisted_action",
        sa.Column("action_id", sa.String(length=66), nullable=False),
        sa.Column("resident", sa.String(length=42), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("staff_member_id", sa.Integer(), nullable=False),
        sa.Column("staff_address", sa.String(length=42), nullable=False),
        sa.Column("consent_hash", sa.String(length=66), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("enrolment_id", sa.String(length=66), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("action_id"),
    )
    for column in ("resident", "reference", "staff_member_id", "created_at"):
        op.create_index(f"ix_assisted_action_{column}", "assisted_action", [column])


def downgrade() -> None:
    for column in ("resident", "reference", "staff_member_id", "created_at"):
        op.drop_index(f"ix_assisted_action_{column}", table_name="assisted_action")
    op.drop_table("assisted_action")
