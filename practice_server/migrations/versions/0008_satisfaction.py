"""One-tap patient satisfaction ratings at the end of check-in (practice_server/satisfaction.py),
and kiosk visits rolled up from their step events for the analytics (step_events.py).

Revision ID: 0008
Revises: 0007
Create Date: written by hand to match the models
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "satisfaction_ratings",
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("site_id", sa.String(36), nullable=False),
        sa.Column("session_id", sa.String(36), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("age_band", sa.String(8), nullable=True),
        sa.Column("visit_type", sa.String(32), nullable=True),
        sa.Column("rated_at", sa.DateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "event_id", name="pk_satisfaction_ratings"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name="fk_satisfaction_ratings_device_id_devices"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_satisfaction_ratings_site_id_sites"),
    )
    op.create_index("ix_satisfaction_ratings_site_id_day", "satisfaction_ratings", ["site_id", "day"])
    op.create_table(
        "kiosk_visits",
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column("site_id", sa.String(36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("age_band", sa.String(8), nullable=True),
        sa.Column("visit_type", sa.String(32), nullable=True),
        sa.Column("checked_in", sa.Boolean(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_kiosk_visits"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name="fk_kiosk_visits_site_id_sites"),
    )
    op.create_index("ix_kiosk_visits_site_id_day", "kiosk_visits", ["site_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_kiosk_visits_site_id_day", table_name="kiosk_visits")
    op.drop_table("kiosk_visits")
    op.drop_index("ix_satisfaction_ratings_site_id_day", table_name="satisfaction_ratings")
    op.drop_table("satisfaction_ratings")
