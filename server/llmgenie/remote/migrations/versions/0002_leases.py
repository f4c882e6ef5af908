"""Run leases: which worker holds a run, and until when (the reaper re-queues expired ones);
when a waiting run's doorbell last rang.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(200), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.Float(), nullable=True))
        batch.add_column(sa.Column("rung_at", sa.Float(), nullable=True))
    op.create_index("runs_leases", "runs", ["status", "lease_expires_at"])


def downgrade() -> None:
    op.drop_index("runs_leases", "runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("rung_at")
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_owner")
