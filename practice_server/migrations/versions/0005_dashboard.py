"""Staff dashboard: staff accounts and sessions (practice_server/dashboard/models.py),
who viewed whose data in the audit log, and when a patient was roomed.

Revision ID: 0005
Revises: 0004
Create Date: written by hand to match the models
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("site_ids", sa.Text(), nullable=False),
        sa.Column("clinician_id", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_users"),
        sa.UniqueConstraint("username", name="uq_staff_users_username"),
        sa.ForeignKeyConstraint(["clinician_id"], ["clinicians.id"], name="fk_staff_users_clinician_id_clinicians"),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_staff_sessions"),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"], name="fk_staff_sessions_user_id_staff_users"),
    )
    op.create_index("ix_staff_sessions_user_id", "staff_sessions", ["user_id"])
    with op.batch_alter_table("audit_log") as t:
        t.add_column(sa.Column("staff_user", sa.String(36), nullable=True))
        t.add_column(sa.Column("patient_id", sa.String(36), nullable=True))
        t.create_index("ix_audit_log_staff_user", ["staff_user"])
        t.create_index("ix_audit_log_patient_id", ["patient_id"])
    with op.batch_alter_table("appointments") as t:
        t.add_column(sa.Column("roomed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appointments") as t:
        t.drop_column("roomed_at")
    with op.batch_alter_table("audit_log") as t:
        t.drop_index("ix_audit_log_patient_id")
        t.drop_index("ix_audit_log_staff_user")
        t.drop_column("patient_id")
        t.drop_column("staff_user")
    op.drop_index("ix_staff_sessions_user_id", table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff_users")
