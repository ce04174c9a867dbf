"""KioskApp: builds the services, the screens, the idle timers and the theme.

Screens are created the first time they are shown. Every patient action goes to the
journey (kiosk.flow); `sync()` then shows the screen whose name is the journey's state.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from kivy.app import App
from kivy.base import ExceptionManager
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import ObjectProperty

from kiosk import flow, widgets
from kiosk.config import KioskConfig
from kiosk.idle import ACTIVE, EXPIRED, IdleTimer
from kiosk.i18n import get_translator
from kiosk.logging_setup import get_phi_guard
from kiosk.screens import create_screen, load_kv_once
from kiosk.screens import base as screens_base
from kiosk.site_config import SiteConfigError, SiteSettings, over, parse_site_config
from kiosk.staff import StaffAuth
from kiosk.steps import default_steps
from kiosk.theme import theme
from kiosk.watchdog import Notifier, parse_window, restart_due
from kiosk.widgets.audio_guide import AudioGuide
from kiosk.widgets.buttons import LanguageButton
from kiosk.widgets.idle_warning import IdleWarning
from kiosk.widgets.tr import tr

if TYPE_CHECKING:  # the store is imported after the first frame, by store_opener
    from kiosk.store import Store

log = logging.getLogger(__name__)
ESCAPE = 27
EDUCATION_IDLE_FACTOR = 3  # reading a page takes a while: education waits longer before closing
SITE_CONFIG_CHECK_SECONDS = 2.0  # how often the idle welcome screen looks for new site settings


def _post_to_ui(callback: Callable[[], object]) -> None:
    """Run `callback` on the UI thread (the speech worker reports through this)."""
    Clock.schedule_once(lambda _dt: callback(), 0)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class KioskApp(App):
    title = "Clinic check-in"
    # Kivy properties, so kv rules (clinic name, logo) follow the site's settings when they change.
    kiosk_config = ObjectProperty(None, rebind=True)  # rebind: kv rules read its fields (app.kiosk_config.site_name)
    site_logo = ObjectProperty(None, allownone=True)  # the site's logo as a texture, None: none

    def __init__(
        self,
        kiosk_config: KioskConfig,
        store: Store | None = None,
        clock: Callable[[], datetime] = utc_now,
        store_opener: Callable[[], Store] | None = None,
        speaker=None,
        **kwargs,
    ):
        """Give a ready `store`, or a `store_opener` to open it just after the first frame:
        SQLAlchemy's import and the database open then no longer delay the welcome screen."""
        super().__init__(**kwargs)
        self.kiosk_config = kiosk_config
        self._local_config = kiosk_config  # the kiosk's own; the site's settings are laid over it
        self.site_settings: SiteSettings | None = None  # applied from the config bundle
        self._site_marker: str | None = None  # the config bundle version last looked at
        self._site_checked_at = 0.0
        self.clock = clock
        self.translator = get_translator()
        self.store: Store | None = None
        self.journey: flow.Journey | None = None
        self._store_opener = store_opener
        self.staff_mode = False
        self.visit_idle = IdleTimer(kiosk_config.idle_warning_seconds, kiosk_config.idle_countdown_seconds)
        self.staff_idle = IdleTimer(kiosk_config.staff_idle_seconds, 10)
        self.warning: IdleWarning | None = None
        self.allow_exit = False
        self._card_camera = None
        self._demo_portal_key = None
        self._payment_terminal = None
        self._speaker = speaker  # kiosk.speech.Speaker; made from the `speech` setting if None
        self.audio: AudioGuide | None = None
        self.notifier = Notifier()  # systemd's READY and watchdog (does nothing outside systemd)
        self._started = time.monotonic()
        self._restart_window = None
        if store is not None:
            self.attach_store(store)

    def attach_store(self, store: Store) -> None:
        """Build the services that work on the local database (also used to swap it in tests)."""
        config = self.kiosk_config
        self.store = store
        from kiosk.store.store import MINUTES_PER_VISIT_SETTING  # the store is loaded by now

        # The expected-wait estimate on the done screen uses the clinic's configured pace.
        store.set_setting(MINUTES_PER_VISIT_SETTING, str(config.minutes_per_visit))
        self.journey = flow.Journey(
            store,
            default_steps(portal_signer=self._portal_signer, terminal_source=self.payment_terminal),
            self.clock,
            flow.IdentifyPolicy(config.max_identify_attempts, config.cooldown_seconds),
            language=config.default_language,
        )
        self.staff_auth = StaffAuth(store, config.staff_pin_hash, self.clock)
        # A crash may have cut a visit short: what its patient confirmed is sent now.
        for step in self.journey.steps:
            step.recover(store, self.clock())
        self._site_marker = None  # another database: read its site settings afresh
        self.apply_site_config()

    def ensure_store(self) -> bool:
        """Open the database now if it is not open yet; False (and an apology) if it cannot be."""
        if self.store is not None:
            return True
        try:
            self.attach_store(self._store_opener())
        except Exception as error:  # StoreError says what to fix (key file, permissions, disk)
            log.error("store.unavailable", extra={"fields": {"problem": str(error)}})
            self.show("problem")
            return False
        self.sync()
        return True

    def _open_store_after_first_frame(self, *_args) -> bool:
        Window.unbind(on_flip=self._open_store_after_first_frame)
        Clock.schedule_once(lambda _dt: self.ensure_store(), 0)
        return False

    # -- building ------------------------------------------------------------------
    def build(self):
        widgets.load_rules()
        load_kv_once(screens_base.__file__)
        Builder.load_file(str(Path(__file__).with_name("app.kv")))
        self.root = Factory.KioskRoot()
        self.manager = self.root.ids.manager
        self.top_bar = self.root.ids.top_bar
        self.translator.set_language(self.kiosk_config.default_language)
        self._refresh_languages()
        Window.clearcolor = theme.background
        theme.fbind("background", lambda *_: setattr(Window, "clearcolor", theme.background))
        self.audio = AudioGuide(self, self.speaker)
        Window.bind(on_touch_down=self._activity, on_key_down=self._on_key_down, on_request_close=self._on_request_close)
        Clock.schedule_interval(self._check_idle, 0.5)
        self._start_watchdog()
        ExceptionManager.add_handler(self)
        if self.store is None:
            Window.bind(on_flip=self._open_store_after_first_frame)
        self.sync()
        log.info("kiosk.started", extra={"fields": {"demo": self.kiosk_config.demo}})
        return self.root

    def _start_watchdog(self) -> None:
        """systemd: READY once the first frame is drawn, then WATCHDOG pings from the UI's
        own clock, so a frozen UI stops them and systemd restarts the kiosk."""
        self._started = time.monotonic()
        self._restart_window = parse_window(self.kiosk_config.restart_window)
        if not self.notifier.enabled:
            return
        Window.bind(on_flip=self._ready_after_first_frame)
        if self.notifier.ping_every:
            Clock.schedule_interval(lambda _dt: self.notifier.ping(), self.notifier.ping_every)

    def _ready_after_first_frame(self, *_args) -> bool:
        Window.unbind(on_flip=self._ready_after_first_frame)
        self.notifier.ready("showing the welcome screen")
        return False

    def _nightly_restart_due(self) -> bool:
        uptime = timedelta(seconds=time.monotonic() - self._started)
        return restart_due(self._restart_window, self.clock().astimezone(), uptime)

    def screen(self, name: str):
        """The screen of that name, created (and its kv loaded) on first use."""
        if not self.manager.has_screen(name):
            self.manager.add_widget(create_screen(name))
        return self.manager.get_screen(name)

    def show(self, name: str) -> None:
        screen = self.screen(name)
        if self.manager.current != name:
            self.manager.current = name
        else:
            screen.on_pre_enter()
        self.top_bar.in_visit = self.in_visit()

    def in_visit(self) -> bool:
        return self.journey is not None and self.journey.session is not None and not self.staff_mode

    def sync(self) -> None:
        """Show whatever the journey is at now (the welcome screen until the store is open)."""
        if self.journey is None:
            self.show("welcome")
            return
        if self.journey.session is not None:
            # Defence in depth: should any log line ever carry this patient's data, it is redacted.
            get_phi_guard().add(*self.journey.session.phi_strings())
        self.show(self.journey.state)
        screen = self.manager.current_screen
        if self.journey.notice:
            screen.notice = self.journey.notice

    def today(self) -> date:
        return self.clock().astimezone().date()

    # -- patient actions that are not journey steps ------------------------------------
    def begin_visit(self, scan: bool = False) -> None:
        if not self.ensure_store():
            return
        self.visit_idle.touch(time.monotonic())
        if scan:
            self.journey.begin_scan()
        else:
            self.journey.begin()
        self.sync()

    def open_education(self) -> None:
        """Health articles to read or hear. A visit ends first, so nothing about the patient
        stays on screen; their language, text size, contrast and audio mode carry over."""
        if not self.ensure_store():
            return
        session = self.journey.session
        visit_type = session.appointment.visit_type if session is not None and session.appointment else ""
        restore_choices, audio = self._patient_choices(), self.audio.on
        if session is not None:
            self.end_visit("completed")
        restore_choices()
        self.visit_idle.touch(time.monotonic())
        self.screen("education").visit_type = visit_type
        self.show("education")
        if audio:
            self.audio.start(intro=False)

    def leave_education(self) -> None:
        self.audio.stop()
        self.back_to_welcome()

    def start_over(self) -> None:
        self.end_visit("start_over")

    def end_visit(self, reason: str) -> None:
        """End the visit and wipe every trace of the patient from memory and the screens."""
        self._hide_warning()
        try:
            if self.journey is not None:
                self.journey.end(reason)  # forgets the visit even when its last event cannot be written
        finally:
            get_phi_guard().clear()
            self.wipe_screens()
            theme.reset()
            if self.audio is not None:
                self.audio.stop()
        self.sync()
        if tr.language != self.kiosk_config.default_language:
            self.switch_language(self.kiosk_config.default_language)
        self._apply_site_config_quietly()  # the next patient gets the site's newest settings

    def handle_exception(self, error: BaseException):
        """Kivy's last resort for an error in any callback: keep the kiosk up, wipe, explain.

        Whatever the patient confirmed was committed with its event before the failure
        (one transaction per step), so ending the visit loses nothing confirmed.
        """
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            return ExceptionManager.RAISE
        log.error("app.error", exc_info=error, extra={"fields": {"screen": self.manager.current}})
        # The patient reads the apology in the language and size they chose.
        restore_choices = self._patient_choices()
        try:
            self.end_visit("error")
        except Exception:  # the store itself may be what failed: still clear the screens
            log.error("app.error_while_ending_visit", exc_info=True)
            if self.journey is not None:
                self.journey.session = None
            self.wipe_screens()
        self.staff_mode = False
        restore_choices()
        self.show("problem")
        return ExceptionManager.PASS

    def _patient_choices(self) -> Callable[[], None]:
        """The patient's language, text size and contrast now, as a call that puts them
        back after end_visit reset them for the next patient."""
        language, scale, contrast = tr.language, theme.scale, theme.high_contrast

        def restore() -> None:
            # (a language the site's new settings no longer offer stays switched off)
            if tr.language != language and language in self.translator.languages:
                self.switch_language(language)
            theme.scale, theme.high_contrast = scale, contrast

        return restore

    def back_to_welcome(self) -> None:
        """From the apology back to a welcome screen set up for the next patient."""
        theme.reset()
        if tr.language != self.kiosk_config.default_language:
            self.switch_language(self.kiosk_config.default_language)
        self.sync()
        self._apply_site_config_quietly()

    def wipe_screens(self) -> None:
        for screen in self.manager.screens:
            screen.clear()

    def card_camera(self):
        """The camera (card photos, code scanning), made on first use from the `camera` setting."""
        if self._card_camera is None:
            from hardware.camera import DEMO_REPLAY_DIR, make_camera

            setting = self.kiosk_config.camera
            if setting == "auto":
                setting = f"replay:{DEMO_REPLAY_DIR}" if self.kiosk_config.demo else "opencv:0"
            self._card_camera = make_camera(setting)
        return self._card_camera

    def _portal_signer(self):
        """(device key, device id, server URL) for minting portal invitations, or None.
        Demo mode signs with a throw-away key and a link nobody can open."""
        config = self.kiosk_config
        if config.demo:
            if self._demo_portal_key is None:
                from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

                self._demo_portal_key = Ed25519PrivateKey.generate()
            from kiosk.steps.portal import DEMO_PORTAL_URL

            return self._demo_portal_key, "00000000-0000-4000-8000-00000000de00", DEMO_PORTAL_URL
        try:
            from sync_protocol.device_key import DeviceKeyError, load_device_key

            return load_device_key(config.device_key_file), config.device_id, config.server_url
        except (DeviceKeyError, OSError, ValueError) as error:
            log.error("portal.cannot_sign", extra={"fields": {"problem": str(error)}})
            return None

    def payment_terminal(self):
        """The copay terminal, made on first use from `payment_terminal` ("auto": the
        simulator in demo mode, none once enrolled until IT configures one)."""
        if self._payment_terminal is None:
            from hardware.payment import make_terminal

            setting = self.kiosk_config.payment_terminal
            if setting == "auto":
                setting = "simulator" if self.kiosk_config.demo else "none"
            self._payment_terminal = make_terminal(setting, state_dir=self.kiosk_config.data_dir / "payment-simulator")
        return self._payment_terminal

    def print_receipt(self, result) -> None:
        """Print the receipt of an approved payment; a printer problem is logged, never shown as an error."""
        from hardware.printer import Receipt, make_printer

        receipt = Receipt.for_payment(result, clinic_name=self.kiosk_config.site_name, when=self.clock())
        outcome = make_printer(self.kiosk_config.receipt_printer).print_receipt(receipt)
        log.info("receipt.print", extra={"fields": {"outcome": outcome.outcome.value, "reason": outcome.reason}})

    def release_card_camera(self) -> None:
        if self._card_camera is not None and self._card_camera.running:
            self._card_camera.stop()

    def edit_contact(self, field: str) -> None:
        self.screen("edit_contact").start(field)
        self.show("edit_contact")

    def switch_language(self, code: str) -> None:
        theme.set_language(code)  # before the texts change, so each renders once, in its font
        tr.switch(code)
        if self.journey is not None:
            self.journey.set_language(code)
        self._refresh_languages()
        current = self.manager.current_screen
        if current is not None:
            current.refresh()  # texts made in Python (times, months) follow the language

    def set_text_step(self, step: int) -> None:
        theme.set_text_step(step)

    def toggle_contrast(self) -> None:
        theme.high_contrast = not theme.high_contrast

    def fill_language_buttons(self, container) -> None:
        """Language buttons on the welcome screen, each named in its own language."""
        container.clear_widgets()
        for code in self.translator.languages:
            container.add_widget(LanguageButton(code=code, text=self.translator.language_name(code), big=True))

    def _refresh_languages(self) -> None:
        names = {code: self.translator.language_name(code) for code in self.translator.languages}
        self.top_bar.show_languages(names, tr.language)

    # -- inactivity ----------------------------------------------------------------
    def _activity(self, *_args) -> bool:
        now = time.monotonic()
        self.visit_idle.touch(now)
        self.staff_idle.touch(now)
        return False  # let the touch go on to the widgets

    def set_time_factor(self, factor: int) -> None:
        """Longer timeouts while the audio mode is on (1: back to the configured ones)."""
        config = self.kiosk_config
        self.visit_idle.warn_after = config.idle_warning_seconds * factor
        self.visit_idle.countdown = config.idle_countdown_seconds * factor

    def speaker(self):
        """The speech engine (read-aloud, audio mode), made on first use from `speech`."""
        if self._speaker is None:
            from kiosk.speech import make_speaker

            self._speaker = make_speaker(self.kiosk_config.speech, post=_post_to_ui)
        return self._speaker

    def more_time(self) -> None:
        self._activity()
        self._hide_warning()

    def _check_idle(self, _dt) -> None:
        now = time.monotonic()
        if self.staff_mode or self.manager.current == "staff_pin":
            if self.staff_idle.state(now) != ACTIVE:
                self.leave_staff_mode()
            return
        if self.journey is None or self.journey.session is None:
            self._check_idle_outside_visit(now)
            return
        state = self.visit_idle.state(now)
        if state == ACTIVE:
            self._hide_warning()
        elif state == EXPIRED:
            log.info("visit.timed_out")
            self.end_visit("timeout")
        else:
            if self.warning is None:
                self.warning = IdleWarning()
                self.warning.open(animation=False)
            self.warning.seconds_left = self.visit_idle.seconds_left(now)

    def _check_idle_outside_visit(self, now: float) -> None:
        if self.manager.current == "education":
            if self._speaker is not None and self._speaker.state == "speaking":
                self.visit_idle.touch(now)  # listening to an article is not being away
            elif now - self.visit_idle.last_activity > EDUCATION_IDLE_FACTOR * (
                    self.visit_idle.warn_after + self.visit_idle.countdown):
                self.leave_education()
        elif self.audio is not None and self.audio.on and self.visit_idle.state(now) == EXPIRED:
            self.audio.stop()  # turned on at the welcome screen by someone who walked away
        elif self.manager.current == "welcome" and not (self.audio and self.audio.on):
            if now - self._site_checked_at >= SITE_CONFIG_CHECK_SECONDS:
                self._site_checked_at = now
                self._apply_site_config_quietly()  # the agent may have saved new settings
            if self._nightly_restart_due():
                # Nobody is at the kiosk: exit cleanly and systemd (Restart=always) starts a fresh one.
                log.info("kiosk.nightly_restart")
                self.notifier.stopping()
                self.allow_exit = True
                self.stop()

    def _hide_warning(self) -> None:
        if self.warning is not None:
            self.warning.dismiss(animation=False)
            self.warning = None

    # -- the site's settings (pushed by the practice in the config bundle) --------------
    def apply_site_config(self) -> bool:
        """Take up the site's settings from the newest config bundle the sync agent saved,
        when they changed and nobody is using the kiosk (no visit, no staff mode, no audio
        guide): a patient never sees the kiosk change under their hands, and a visit keeps
        the steps it started with. Settings this kiosk cannot use are logged and ignored
        (the ones it has stay). True when settings were applied."""
        if self.store is None or self.journey is None or self.journey.session is not None or self.staff_mode \
                or (self.audio is not None and self.audio.on):
            return False
        from kiosk.store.store import BUNDLE_ETAG_SETTING  # the store is loaded by now

        marker = self.store.get_setting(BUNDLE_ETAG_SETTING.format(kind="config")) or ""
        saved = None
        if not marker or marker != self._site_marker:
            saved = self.store.bundle("config")
            if saved is not None and not marker:  # saved without an ETag: its version, else its content
                marker = str(saved[0].get("version") or "") or hashlib.sha256(
                    json.dumps(saved[0], sort_keys=True).encode()).hexdigest()
        if marker == self._site_marker:
            return False
        self._site_marker = marker  # looked at once per version, even when refused
        settings = None
        if saved is not None:
            try:
                settings = parse_site_config(saved[0].get("items"), version=marker)
            except SiteConfigError as error:
                log.error("site_config.not_applied", extra={"fields": {"version": marker, "problems": error.problems}})
                return False
        if settings is None and self.site_settings is None:
            return False  # no site settings before nor now: the kiosk's own configuration stays
        self._use_site_settings(settings)
        log.info("site_config.applied", extra={"fields": {"version": marker}})
        return True

    def _apply_site_config_quietly(self) -> None:
        try:
            self.apply_site_config()
        except Exception:  # noqa: BLE001 - a failing read must not trouble the end of a visit
            log.error("site_config.check_failed", exc_info=True)

    def _use_site_settings(self, settings: SiteSettings | None) -> None:
        from kiosk.store.store import MINUTES_PER_VISIT_SETTING

        config = over(self.kiosk_config, settings, self._local_config)
        self.site_settings = settings
        self.kiosk_config = config
        self.visit_idle.warn_after = config.idle_warning_seconds
        self.visit_idle.countdown = config.idle_countdown_seconds
        self.staff_idle.warn_after = config.staff_idle_seconds
        self.store.set_setting(MINUTES_PER_VISIT_SETTING, str(config.minutes_per_visit))
        self.journey.set_site_steps(settings.runs_step if settings is not None else None)
        self.site_logo = self._logo_texture(settings.logo if settings is not None else None)
        if (config.languages, config.default_language) != (self.translator.languages,
                                                           self.translator.default_language):
            self.translator.reconfigure(config.languages, config.default_language)
            if self.root is not None:
                self.switch_language(config.default_language)
                if self.manager.has_screen("welcome"):
                    self.fill_language_buttons(self.manager.get_screen("welcome").ids.languages)

    @staticmethod
    def _logo_texture(logo):
        if logo is None:
            return None
        from kivy.core.image import Image as CoreImage

        try:
            return CoreImage(io.BytesIO(logo.data), ext=logo.extension, nocache=True).texture
        except Exception:  # noqa: BLE001 - checked by Pillow already; a kiosk without a logo still works
            log.error("site_config.logo_unreadable", exc_info=True)
            return None

    # -- staff ------------------------------------------------------------------------
    def open_staff(self) -> None:
        if not self.ensure_store():
            return
        if self.journey.session is not None:
            self.end_visit("staff")
        self.staff_idle.touch(time.monotonic())
        self.show("staff_pin")
        self.top_bar.in_visit = False

    def enter_staff_mode(self) -> None:
        self.staff_mode = True
        self.staff_idle.touch(time.monotonic())
        self.show("staff")

    def leave_staff_mode(self) -> None:
        if self.staff_mode:
            self.staff_auth.record("staff.signed_out")
        self.staff_mode = False
        self.screen("staff_pin").clear()
        self.sync()

    def lift_cooldown(self) -> None:
        self.staff_auth.record("staff.lifted_cooldown")
        self.journey.clear_cooldown()
        self.screen("staff").refresh()

    def exit_app(self) -> None:
        self.staff_auth.record("staff.exited_app")
        self.allow_exit = True
        self.stop()

    # -- window ---------------------------------------------------------------------
    def _on_key_down(self, _window, key, _scancode=None, codepoint=None, modifiers=(), *_args) -> bool:
        self._activity()
        if self.audio is not None and self.audio.handle_key(key, codepoint, modifiers or ()):
            return True
        return key == ESCAPE  # swallow Escape: patients must not quit the kiosk

    def _on_request_close(self, *_args) -> bool:
        return not self.allow_exit  # True keeps the window open

    def on_stop(self) -> None:
        self.release_card_camera()
        if self._speaker is not None:
            self._speaker.close()
        if self._payment_terminal is not None:
            self._payment_terminal.close()
        if self.store is not None:
            self.store.close()
