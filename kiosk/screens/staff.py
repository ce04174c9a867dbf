"""Staff mode: kiosk status at a glance, lift a cool-down, or exit the app."""
from kivy.properties import StringProperty
from kiosk.widgets.mirror import MirrorBoxLayout

from kiosk import __version__
from kiosk.i18n_markers import N_
from kiosk.screens.base import KioskScreen
from kiosk.sync_health import NOT_ENROLLED, OFFLINE, ONLINE, read_health

SYNC_STATES = {
    ONLINE: N_("online"),
    OFFLINE: N_("offline"),
    NOT_ENROLLED: N_("not enrolled"),
}
DEAD_LETTERS_SHOWN = 5


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


class StatusRow(MirrorBoxLayout):
    label_id = StringProperty("")
    value = StringProperty("")


class StaffScreen(KioskScreen):
    def refresh(self) -> None:
        app = self.app
        status = app.store.status()
        fmt = app.translator.format_datetime
        never = app.translator.gettext(N_("never"))
        tr = app.translator.gettext
        health = read_health(app.kiosk_config.health_file)
        if app.kiosk_config.demo:
            connection = tr(N_("demo clinic")) + " — " + tr(N_("no server"))
        else:
            connection = tr(SYNC_STATES.get(health.state, N_("agent not running")))
        last_sync = health.last_success or status.last_sync
        rows = [
            (N_("Version"), __version__),
            (N_("Site"), app.kiosk_config.site_name),
            (N_("Mode"), app.translator.gettext(N_("demo clinic")) if app.kiosk_config.demo else app.kiosk_config.server_url),
            (N_("Database size"), _size(status.db_bytes)),
            (N_("Events waiting to sync"), str(status.outbox_pending)),
            (N_("Oldest waiting event"), fmt(status.outbox_oldest) if status.outbox_oldest else "—"),
            (N_("Server connection"), connection),
            (N_("Last sync"), fmt(last_sync) if last_sync else never),
            (N_("Last sync error"), health.last_error or "—"),
            (N_("Events the server refused"), str(status.dead_letters)),
            (N_("Check-in pause (seconds)"), str(int(app.journey.cooldown_remaining()))),
        ]
        self.ids.status.clear_widgets()
        # Refused events are never dropped: staff see what and why, IT fixes the cause.
        for letter in app.store.dead_letters(limit=DEAD_LETTERS_SHOWN):
            rows.append((N_("Refused event"), f"{fmt(letter.dead_at)} · {letter.event_type} · {letter.reason}"))
        for label_id, value in rows:
            self.ids.status.add_widget(StatusRow(label_id=label_id, value=value))
