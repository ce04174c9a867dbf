"""Initial practice server schema.

Revision ID: 0001
Revises:
Create Date: written by hand to match practice_server/models.py
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import CreateSequence, DropSequence

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SEQ = sa.Sequence("schedule_change_seq")


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CreateSequence(_SEQ))

    op.create_table(
        "sites",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        _utc("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_sites"),
        sa.UniqueConstraint("name", name="uq_sites_name"),
    )
    op.create_table(
        "bundles",
        sa.Column("site_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        _utc("updated_at"),
        sa.PrimaryKeyConstraint("site_id", "kind", name="pk_bundles"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_bundles_site_id_sites"),
    )
    op.create_table(
        "clinicians",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_clinicians"),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("first_name", sa.String(200), nullable=False),
        sa.Column("last_name", sa.String(200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("phone", sa.String(100), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("street", sa.String(200), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("state", sa.String(100), nullable=False),
        sa.Column("postal_code", sa.String(20), nullable=False),
        _utc("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_patients"),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("site_id", sa.String(36), nullable=False),
        sa.Column("patient_id", sa.String(36), nullable=False),
        sa.Column("clinician_id", sa.String(36), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visit_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _utc("arrived_at", nullable=True),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        _utc("changed_at"),
        sa.PrimaryKeyConstraint("id", name="pk_appointments"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_appointments_site_id_sites"),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name="fk_appointments_patient_id_patients"
        ),
        sa.ForeignKeyConstraint(
            ["clinician_id"], ["clinicians.id"], name="fk_appointments_clinician_id_clinicians"
        ),
    )
    op.create_index("ix_appointments_site_id_change_seq", "appointments", ["site_id", "change_seq"])
    op.create_index("ix_appointments_site_id_day", "appointments", ["site_id", "day"])
    op.create_index("ix_appointments_patient_id_day", "appointments", ["patient_id", "day"])
    op.create_index("ix_appointments_clinician_id_day", "appointments", ["clinician_id", "day"])
    op.create_table(
        "counters",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_counters"),
    )
    op.create_table(
        "enrolment_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(36), nullable=False),
        _utc("created_at"),
        _utc("expires_at"),
        _utc("used_at", nullable=True),
        sa.Column("device_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_enrolment_tokens"),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name="fk_enrolment_tokens_site_id_sites"
        ),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("site_id", sa.String(36), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("hostname", sa.String(253), nullable=False),
        sa.Column("version", sa.String(64), nullable=True),
        _utc("enrolled_at"),
        _utc("revoked_at", nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_devices"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_devices_site_id_sites"),
    )
    op.create_index("ix_devices_site_id", "devices", ["site_id"])
    op.create_table(
        "device_status",
        sa.Column("device_id", sa.String(36), nullable=False),
        _utc("received_at"),
        sa.Column("version", sa.String(64), nullable=True),
        sa.Column("backlog", sa.Integer(), nullable=True),
        sa.Column("oldest_unsent_age_seconds", sa.Float(), nullable=True),
        _utc("kiosk_clock", nullable=True),
        sa.Column("disk_free_bytes", sa.BigInteger(), nullable=True),
        sa.Column("dead_letters", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("device_id", name="pk_device_status"),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name="fk_device_status_device_id_devices"
        ),
    )
    op.create_table(
        "nonces",
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        _utc("created_at"),
        sa.PrimaryKeyConstraint("device_id", "nonce", name="pk_nonces"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name="fk_nonces_device_id_devices"),
    )
    op.create_index("ix_nonces_created_at", "nonces", ["created_at"])
    op.create_table(
        "events",
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        _utc("created_at", nullable=True),
        _utc("received_at"),
        sa.Column("session_id", sa.String(36), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "event_id", name="pk_events"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name="fk_events_device_id_devices"),
    )
    op.create_index("ix_events_type_received_at", "events", ["type", "received_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _utc("at"),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("code", sa.String(64), nullable=True),
        sa.Column("device_id", sa.String(64), nullable=True),
        sa.Column("site_id", sa.String(36), nullable=True),
        sa.Column("path", sa.String(200), nullable=True),
        sa.Column("client_address", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_device_id", "audit_log", ["device_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_device_id", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_events_type_received_at", table_name="events")
    op.drop_table("events")
    op.drop_index("ix_nonces_created_at", table_name="nonces")
    op.drop_table("nonces")
    op.drop_table("device_status")
    op.drop_index("ix_devices_site_id", table_name="devices")
    op.drop_table("devices")
    op.drop_table("enrolment_tokens")
    op.drop_table("counters")
    op.drop_index("ix_appointments_clinician_id_day", table_name="appointments")
    op.drop_index("ix_appointments_patient_id_day", table_name="appointments")
    op.drop_index("ix_appointments_site_id_day", table_name="appointments")
    op.drop_index("ix_appointments_site_id_change_seq", table_name="appointments")
    op.drop_table("appointments")
    op.drop_table("patients")
    op.drop_table("clinicians")
    op.drop_table("bundles")
    op.drop_table("sites")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DropSequence(_SEQ))
