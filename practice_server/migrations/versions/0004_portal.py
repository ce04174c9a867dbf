"""Portal enrolment from the kiosk's invitation: accounts, single-use invitations,
brute-force counters, enrolment sessions (practice_server/portal/models.py).

Revision ID: 0004
Revises: 0003
Create Date: written by hand to match practice_server/portal/models.py
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def _id(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(36), nullable=nullable)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "portal_accounts",
        _id("id"), _id("patient_id"),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("totp_enabled", sa.Boolean(), nullable=False),
        sa.Column("terms_version", sa.String(40), nullable=False),
        _utc("created_at"),
        _id("created_via_device", nullable=True),
        sa.Column("invitation_id", sa.String(64), nullable=True),
        _id("site_id", nullable=True),
        sa.Column("created_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_portal_accounts"),
        sa.UniqueConstraint("patient_id", name="uq_portal_accounts_patient_id"),
        sa.UniqueConstraint("invitation_id", name="uq_portal_accounts_invitation_id"),
        _fk("portal_accounts", "patient_id", "patients"),
        _fk("portal_accounts", "created_via_device", "devices"),
        _fk("portal_accounts", "site_id", "sites"),
    )
    op.create_index("ix_portal_accounts_site_id_created_day", "portal_accounts", ["site_id", "created_day"])

    op.create_table(
        "portal_invitation_uses",
        sa.Column("invitation_id", sa.String(64), nullable=False),
        _utc("used_at"),
        _id("account_id"),
        sa.PrimaryKeyConstraint("invitation_id", name="pk_portal_invitation_uses"),
        _fk("portal_invitation_uses", "account_id", "portal_accounts"),
    )

    op.create_table(
        "portal_attempts",
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        _utc("window_start"),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "subject", "window_start", name="pk_portal_attempts"),
    )

    op.create_table(
        "portal_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("invitation_id", sa.String(64), nullable=False),
        _id("device_id"), _id("site_id"), _id("appointment_id"), _id("patient_id"),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("totp_enabled", sa.Boolean(), nullable=False),
        _utc("created_at"),
        _utc("expires_at"),
        sa.PrimaryKeyConstraint("token_hash", name="pk_portal_sessions"),
        _fk("portal_sessions", "device_id", "devices"),
        _fk("portal_sessions", "site_id", "sites"),
        _fk("portal_sessions", "appointment_id", "appointments"),
        _fk("portal_sessions", "patient_id", "patients"),
    )
    op.create_index("ix_portal_sessions_expires_at", "portal_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_portal_sessions_expires_at", table_name="portal_sessions")
    op.drop_table("portal_sessions")
    op.drop_table("portal_attempts")
    op.drop_table("portal_invitation_uses")
    op.drop_index("ix_portal_accounts_site_id_created_day", table_name="portal_accounts")
    op.drop_table("portal_accounts")
