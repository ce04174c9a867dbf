"""Tables of the staff dashboard (migrations 0005 and 0006; the migration test compares
them with the migrations, so practice_server.dashboard imports this module)."""
