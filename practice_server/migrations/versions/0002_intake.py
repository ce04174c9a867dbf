"""What patients do at the kiosk: form responses, alerts, consent documents and
signatures, insurance cards, step events for drop-off analytics.

Revision ID: 0002
Revises: 0001
Create Date: written by hand to match practice_server/models.py
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def _id(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(36), nullable=nullable)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}")


def _visit_fks(table: str, *, device: bool = True) -> list[sa.ForeignKeyConstraint]:
    fks = [_fk(table, "site_id", "sites"), _fk(table, "patient_id", "patients"),
           _fk(table, "appointment_id", "appointments")]
    if device:
        fks.append(_fk(table, "device_id", "devices"))
    return fks


def upgrade() -> None:
    op.create_table(
        "form_responses",
        _id("id"), _id("site_id"), _id("device_id"), _id("event_id"), _id("patient_id"), _id("appointment_id"),
        sa.Column("questionnaire_url", sa.String(500), nullable=False),
        sa.Column("questionnaire_version", sa.String(64), nullable=True),
        sa.Column("questionnaire_title", sa.String(300), nullable=True),
        sa.Column("codes", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        _utc("authored"),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("score_total", sa.Float(), nullable=True),
        sa.Column("score_band", sa.String(64), nullable=True),
        sa.Column("flags", sa.Text(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        _utc("received_at"),
        sa.PrimaryKeyConstraint("id", name="pk_form_responses"),
        sa.UniqueConstraint("device_id", "event_id", name="uq_form_responses_device_id_event_id"),
        *_visit_fks("form_responses"),
    )
    op.create_index("ix_form_responses_patient_id_questionnaire_url", "form_responses",
                    ["patient_id", "questionnaire_url"])
    op.create_index("ix_form_responses_site_id_day", "form_responses", ["site_id", "day"])

    op.create_table(
        "alerts",
        _id("id"), _id("site_id"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        _id("patient_id"), _id("appointment_id"),
        sa.Column("detail", sa.Text(), nullable=False),
        _utc("raised_at"),
        _utc("received_at"),
        _utc("acknowledged_at", nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        *_visit_fks("alerts", device=False),
    )
    op.create_index("ix_alerts_site_id_acknowledged_at", "alerts", ["site_id", "acknowledged_at"])

    op.create_table(
        "consent_documents",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        _utc("published_at"),
        sa.PrimaryKeyConstraint("id", "version", "language", name="pk_consent_documents"),
    )

    op.create_table(
        "patient_consents",
        _id("id"), _id("site_id"), _id("device_id"), _id("event_id"), _id("patient_id"), _id("appointment_id"),
        sa.Column("document_id", sa.String(64), nullable=False),
        sa.Column("document_version", sa.String(40), nullable=False),
        sa.Column("document_language", sa.String(35), nullable=False),
        sa.Column("document_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("deferred_reason", sa.String(32), nullable=True),
        _utc("at"),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("signature_png", sa.LargeBinary(), nullable=True),
        sa.Column("signature_strokes", sa.Integer(), nullable=True),
        sa.Column("signature_points", sa.Integer(), nullable=True),
        sa.Column("signature_width", sa.Integer(), nullable=True),
        sa.Column("signature_height", sa.Integer(), nullable=True),
        sa.Column("signature_stroke_data", sa.Text(), nullable=True),
        _utc("received_at"),
        sa.PrimaryKeyConstraint("id", name="pk_patient_consents"),
        sa.UniqueConstraint("device_id", "event_id", name="uq_patient_consents_device_id_event_id"),
        *_visit_fks("patient_consents"),
    )
    op.create_index("ix_patient_consents_patient_id_document_id", "patient_consents",
                    ["patient_id", "document_id"])

    op.create_table(
        "insurance_cards",
        _id("id"), _id("site_id"), _id("device_id"), _id("event_id"), _id("patient_id"), _id("appointment_id"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("side", sa.String(8), nullable=True),
        sa.Column("skipped_reason", sa.String(32), nullable=True),
        sa.Column("image_jpeg", sa.LargeBinary(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("capture", sa.String(8), nullable=True),
        sa.Column("sharpness", sa.Float(), nullable=True),
        _utc("at"),
        _utc("received_at"),
        sa.PrimaryKeyConstraint("id", name="pk_insurance_cards"),
        sa.UniqueConstraint("device_id", "event_id", name="uq_insurance_cards_device_id_event_id"),
        *_visit_fks("insurance_cards"),
    )
    op.create_index("ix_insurance_cards_patient_id_side", "insurance_cards", ["patient_id", "side"])

    op.create_table(
        "step_events",
        _id("device_id"), _id("event_id"), _id("site_id"), _id("session_id", nullable=True),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("age_band", sa.String(8), nullable=True),
        sa.Column("visit_type", sa.String(32), nullable=True),
        sa.Column("reason", sa.String(16), nullable=True),
        _utc("created_at"),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "event_id", name="pk_step_events"),
        _fk("step_events", "device_id", "devices"),
        _fk("step_events", "site_id", "sites"),
    )
    op.create_index("ix_step_events_site_id_day", "step_events", ["site_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_step_events_site_id_day", table_name="step_events")
    op.drop_table("step_events")
    op.drop_index("ix_insurance_cards_patient_id_side", table_name="insurance_cards")
    op.drop_table("insurance_cards")
    op.drop_index("ix_patient_consents_patient_id_document_id", table_name="patient_consents")
    op.drop_table("patient_consents")
    op.drop_table("consent_documents")
    op.drop_index("ix_alerts_site_id_acknowledged_at", table_name="alerts")
    op.drop_table("alerts")
    op.drop_index("ix_form_responses_site_id_day", table_name="form_responses")
    op.drop_index("ix_form_responses_patient_id_questionnaire_url", table_name="form_responses")
    op.drop_table("form_responses")
