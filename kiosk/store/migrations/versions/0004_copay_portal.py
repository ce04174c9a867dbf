"""Copay and portal: the amount due per appointment, the patient's portal flag, and
payment records written before the terminal is asked (crash reconciliation).

Revision ID: 0004
Revises: 0003
Create Date: written by hand to match kiosk/store/models.py
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("copay_cents", sa.Integer(), nullable=True))
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("portal_account", sa.Boolean(), nullable=False, server_default="0"))
    op.create_table(
        "payments",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("appointment_id", sa.String(36), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("result", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payments"),
    )
    op.create_index("ix_payments_appointment_id", "payments", ["appointment_id"])
    op.create_index("ix_payments_state", "payments", ["state"])


def downgrade() -> None:
    op.drop_index("ix_payments_state", table_name="payments")
    op.drop_index("ix_payments_appointment_id", table_name="payments")
    op.drop_table("payments")
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("portal_account")
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("copay_cents")
