"""Dead letters: why the server rejected an event, for staff (the outbox row stays).

Revision ID: 0002
Revises: 0001
Create Date: written by hand to match kiosk/store/models.py
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("dead_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_dead_letters"),
        sa.ForeignKeyConstraint(
            ["event_id"], ["outbox_events.id"], name="fk_dead_letters_event_id_outbox_events"
        ),
    )
    op.create_index("ix_dead_letters_dead_at", "dead_letters", ["dead_at"])
    # Events already dead under 0001 get their dead letter too, so the count staff see
    # matches the outbox (0001 kept the reason in last_error and no time of death).
    op.execute(
        "INSERT INTO dead_letters (event_id, event_type, reason, dead_at) "
        "SELECT id, event_type, COALESCE(last_error, ''), created_at "
        "FROM outbox_events WHERE state = 'dead'"
    )


def downgrade() -> None:
    op.drop_index("ix_dead_letters_dead_at", table_name="dead_letters")
    op.drop_table("dead_letters")
