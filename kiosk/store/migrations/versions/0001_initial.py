"""Initial kiosk schema: clinicians, patients, appointments, outbox, audit, settings.

Revision ID: 0001
Revises:
Create Date: written by hand to match kiosk/store/models.py
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_PHI = ("first_name", "last_name", "birth_date", "phone", "email", "street", "city", "state", "postal_code")


def upgrade() -> None:
    op.create_table(
        "clinicians",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_clinicians"),
    )

    op.create_table(
        "patients",
        sa.Column("id", sa.String(36), nullable=False),
        *[sa.Column(name, sa.LargeBinary(), nullable=False) for name in _PHI],
        sa.Column("identity_index", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_patients"),
    )
    op.create_index("ix_patients_identity_index", "patients", ["identity_index"])

    op.create_table(
        "appointments",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("patient_id", sa.String(36), nullable=False),
        sa.Column("clinician_id", sa.String(36), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visit_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("arrived_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_appointments"),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name="fk_appointments_patient_id_patients"
        ),
        sa.ForeignKeyConstraint(
            ["clinician_id"], ["clinicians.id"], name="fk_appointments_clinician_id_clinicians"
        ),
    )
    op.create_index("ix_appointments_day", "appointments", ["day"])
    op.create_index("ix_appointments_patient_id_day", "appointments", ["patient_id", "day"])
    op.create_index("ix_appointments_clinician_id_day", "appointments", ["clinician_id", "day"])

    op.create_table(
        "outbox_events",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_events"),
    )
    op.create_index("ix_outbox_events_state_created_at", "outbox_events", ["state", "created_at"])

    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_entries"),
    )
    # Append-only: the database itself refuses to change or remove history.
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_entries_no_{verb.lower()} BEFORE {verb} ON audit_entries "
            "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END"
        )

    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_settings"),
    )


def downgrade() -> None:
    op.drop_table("settings")
    op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")
    op.drop_table("audit_entries")
    op.drop_index("ix_outbox_events_state_created_at", table_name="outbox_events")
    op.drop_table("outbox_events")
    op.drop_index("ix_appointments_clinician_id_day", table_name="appointments")
    op.drop_index("ix_appointments_patient_id_day", table_name="appointments")
    op.drop_index("ix_appointments_day", table_name="appointments")
    op.drop_table("appointments")
    op.drop_index("ix_patients_identity_index", table_name="patients")
    op.drop_table("patients")
    op.drop_table("clinicians")
