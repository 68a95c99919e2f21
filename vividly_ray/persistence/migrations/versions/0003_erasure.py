"""Erasure of a request on demand (DELETE /v1/videos/{id}) and by the retention job.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("content_requests") as batch:
        batch.add_column(sa.Column("erase_after", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(op.f("ix_content_requests_erase_after"), ["erase_after"], unique=False)
    op.create_index(
        op.f("ix_rejected_messages_last_seen_at"),
        "rejected_messages",
        ["last_seen_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rejected_messages_last_seen_at"), table_name="rejected_messages")
    with op.batch_alter_table("content_requests") as batch:
        batch.drop_index(op.f("ix_content_requests_erase_after"))
        batch.drop_column("erase_after")
