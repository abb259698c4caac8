"""each platform's own enroller key (sealed with the custody master key, the platform id as associated
data) and its address, the one a staff admin grants ENROLLER_ROLE

Platforms added before this revision have none (both columns NULL) until
`esg-ledger platform enroller <id>` gives them one.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("platform", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enroller_ciphertext", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("enroller_address", sa.String(length=42), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("platform", schema=None) as batch_op:
        batch_op.drop_column("enroller_address")
        batch_op.drop_column("enroller_ciphertext")
