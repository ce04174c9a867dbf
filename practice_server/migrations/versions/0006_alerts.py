"""Alerts that need a person: "needs help at kiosk N" (no patient), payment problems,
repeated alerts counted; dead letters (rejected events) resolved on the dashboard; where
each visit's copay stands (visit_payments).

Revision ID: 0006
Revises: 0005
Create Date: written by hand to match the models
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as t:
        t.alter_column("patient_id", existing_type=sa.String(36), nullable=True)
        t.alter_column("appointment_id", existing_type=sa.String(36), nullable=True)
        t.add_column(sa.Column("device_id", sa.String(36), nullable=True))
        t.add_column(sa.Column("occurrences", sa.Integer(), nullable=False, server_default="1"))
        t.add_column(sa.Column("last_raised_at", sa.DateTime(), nullable=True))
        t.create_foreign_key("fk_alerts_device_id_devices", "devices", ["device_id"], ["id"])
    with op.batch_alter_table("events") as t:
        t.add_column(sa.Column("resolved_at", sa.DateTime(), nullable=True))
        t.add_column(sa.Column("resolved_by", sa.String(36), nullable=True))
        t.add_column(sa.Column("resolution_note", sa.Text(), nullable=True))
    op.create_index("ix_events_status_received_at", "events", ["status", "received_at"])
    op.create_table(
        "visit_payments",
        sa.Column("appointment_id", sa.String(36), nullable=False),
        sa.Column("site_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("appointment_id", name="pk_visit_payments"),
        sa.ForeignKeyConstraint(["appointment_id"], ["appointments.id"], name="fk_visit_payments_appointment_id_appointments"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_visit_payments_site_id_sites"),
    )


def downgrade() -> None:
    op.drop_table("visit_payments")
    op.drop_index("ix_events_status_received_at", table_name="events")
    with op.batch_alter_table("events") as t:
        t.drop_column("resolution_note")
        t.drop_column("resolved_by")
        t.drop_column("resolved_at")
    with op.batch_alter_table("alerts") as t:
        t.drop_constraint("fk_alerts_device_id_devices", type_="foreignkey")
        t.drop_column("last_raised_at")
        t.drop_column("occurrences")
        t.drop_column("device_id")
        t.alter_column("appointment_id", existing_type=sa.String(36), nullable=False)
        t.alter_column("patient_id", existing_type=sa.String(36), nullable=False)
