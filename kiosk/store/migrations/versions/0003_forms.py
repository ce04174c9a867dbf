"""Intake forms: drafts saved as the patient answers, patients' form/consent history,
and outbox priority (an urgent alert is sent before the backlog).

Revision ID: 0003
Revises: 0002
Create Date: written by hand to match kiosk/store/models.py
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("history", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("local_history", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("outbox_events") as batch:
        # Existing events keep the normal priority.
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="1"))
    op.create_index(
        "ix_outbox_events_state_priority_created_at",
        "outbox_events",
        ["state", "priority", "created_at"],
    )
    op.create_table(
        "form_drafts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_form_drafts"),
    )
    op.create_index("ix_form_drafts_session_id", "form_drafts", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_form_drafts_session_id", table_name="form_drafts")
    op.drop_table("form_drafts")
    op.drop_index("ix_outbox_events_state_priority_created_at", table_name="outbox_events")
    with op.batch_alter_table("outbox_events") as batch:
        batch.drop_column("priority")
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("local_history")
        batch.drop_column("history")
