"""Alembic environment: runs on the connection practice_server.db.upgrade_to_head passes in."""

from alembic import context

from practice_server.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "practice server migrations run through practice_server.db.upgrade_to_head(); "
        "there is no alembic.ini or offline mode"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
