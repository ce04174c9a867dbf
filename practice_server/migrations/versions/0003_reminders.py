"""Appointment reminders and check-in codes: copays and portal accounts in the schedule,
the patient's language, the practice's check-in keys, the reminders sent.

Revision ID: 0003
Revises: 0002
Create Date: written by hand to match practice_server/models.py
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("copay_cents", sa.Integer(), nullable=True))
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("language", sa.String(35), nullable=False, server_default="en"))
        batch.add_column(sa.Column("portal_account", sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table(
        "checkin_keys",
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("signed_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_checkin_keys"),
    )
    op.create_table(
        "reminders",
        sa.Column("appointment_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("token_id", sa.String(16), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("appointment_id", name="pk_reminders"),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointments.id"],
                                name="fk_reminders_appointment_id_appointments"),
    )


def downgrade() -> None:
    op.drop_table("reminders")
    op.drop_table("checkin_keys")
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("portal_account")
        batch.drop_column("language")
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("copay_cents")
