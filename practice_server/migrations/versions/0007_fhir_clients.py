"""EHR clients of the FHIR read API and their short-lived tokens (practice_server/fhir_clients.py);
which client read what in the audit log.

Revision ID: 0007
Revises: 0006
Create Date: written by hand to match the models
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fhir_clients",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_fhir_clients"),
    )
    op.create_table(
        "fhir_tokens",
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_sha256", name="pk_fhir_tokens"),
        sa.ForeignKeyConstraint(["client_id"], ["fhir_clients.id"], name="fk_fhir_tokens_client_id_fhir_clients"),
    )
    op.create_index("ix_fhir_tokens_client_id", "fhir_tokens", ["client_id"])
    op.create_index("ix_fhir_tokens_expires_at", "fhir_tokens", ["expires_at"])
    with op.batch_alter_table("audit_log") as t:
        t.add_column(sa.Column("fhir_client", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as t:
        t.drop_column("fhir_client")
    op.drop_index("ix_fhir_tokens_expires_at", table_name="fhir_tokens")
    op.drop_index("ix_fhir_tokens_client_id", table_name="fhir_tokens")
    op.drop_table("fhir_tokens")
    op.drop_table("fhir_clients")
