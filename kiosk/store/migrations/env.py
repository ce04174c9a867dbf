"""Alembic environment: runs on the connection kiosk.store.database passes in."""

from alembic import context

from kiosk.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "kiosk store migrations run through kiosk.store.database.upgrade_to_head(); "
        "there is no alembic.ini or offline mode"
    )

# render_as_batch: SQLite cannot ALTER most things, batch mode copies the table.
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
