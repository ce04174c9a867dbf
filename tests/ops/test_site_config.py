"""A site's settings from the config bundle: read and checked (every problem in words for
IT), the logo checked, laid over the kiosk's own configuration, and the journey's steps
per visit type changed between visits only."""
from __future__ import annotations

import base64
import io
from datetime import datetime, time

import pytest
from PIL import Image

from kiosk.config import load_config
from kiosk.flow import CONFIRM, DONE, Journey, Step
from kiosk.site_config import (
    MAX_LOGO_BYTES,
    STEP_NAMES,
    SiteConfigError,
    check_logo,
    logo_item,
    over,
    parse_site_config,
)
from kiosk.steps import default_steps
from kiosk.store.demo_clinic import DEMO_PATIENTS
from tests.conftest import TEST_TODAY


def image_bytes(kind: str = "PNG", size: tuple[int, int] = (120, 60), colour=(20, 90, 160)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, kind)
    return out.getvalue()


def problems_of(items, **kw) -> list[str]:
    with pytest.raises(SiteConfigError) as caught:
        parse_site_config(items, **kw)
    return caught.value.problems


def test_a_full_site_configuration_is_read():
    logo = logo_item(check_logo(image_bytes()))
    settings = parse_site_config({
        "site_name": "Northside Clinic", "clinic_name": "  Northside   Family Clinic ", "logo": logo,
        "languages": ["es", "en"], "default_language": "es", "idle_warning_seconds": 90,
        "idle_countdown_seconds": 15, "staff_idle_seconds": 45, "minutes_per_visit": 20, "copay": False,
        "steps": {"follow_up": ["review_contact", "copay", "portal"], "default": ["review_contact"]},
        "checkin_keys": {}, "retention_days": 7}, version="v7")
    assert settings.site_name == "Northside Family Clinic"  # the clinic's name wins over the site's
    assert (settings.languages, settings.default_language) == (("es", "en"), "es")
    assert (settings.idle_warning_seconds, settings.idle_countdown_seconds, settings.staff_idle_seconds) == (90, 15, 45)
    assert settings.logo.media_type == "image/png" and (settings.logo.width, settings.logo.height) == (120, 60)
    assert settings.version == "v7" and "bytes" in repr(settings.logo)  # no image data in logs
    # copay off wins over the lists; a listed visit type gets its list; others the default
    assert [s for s in STEP_NAMES if settings.runs_step(s, "follow_up")] == ["review_contact", "portal"]
    assert [s for s in STEP_NAMES if settings.runs_step(s, "annual_physical")] == ["review_contact"]
    every = parse_site_config({})
    assert all(every.runs_step(s, None) for s in STEP_NAMES) and every.site_name is None
    nothing = parse_site_config({"steps": {"follow_up": []}})
    assert not any(nothing.runs_step(s, "follow_up") for s in STEP_NAMES)
    assert all(nothing.runs_step(s, "new_patient") for s in STEP_NAMES)  # no default: all steps


def test_publishing_lists_every_problem_in_plain_words():
    found = problems_of({
        "site_name": "Other", "langauges": ["en"], "languages": ["en", "xx"], "default_language": "fr",
        "idle_warning_seconds": 0, "idle_countdown_seconds": "20", "copay": "no", "days_ahead": 99,
        "steps": {"follow_up": ["review_contact", "payment"], "new_patient": "copay"},
        "clinic_name": ""}, strict=True)
    text = "\n".join(found)
    assert "'site_name' is set by the server itself" in text and "set clinic_name" in text
    assert "unknown setting 'langauges' (did you mean 'languages'?)" in text
    assert "'languages': no translation for xx; the kiosk has en, ar, es, vi, zh" in text
    assert "'default_language': expected one of the languages offered" in text and "'fr'" in text
    assert "'idle_warning_seconds': expected a whole number of seconds from 1 to 3600, found 0" in text
    assert "'idle_countdown_seconds': expected a whole number of seconds from 1 to 600, found '20'" in text
    assert "'copay': expected true or false (no quotes), found 'no'" in text
    assert "'days_ahead': expected a whole number of days from 0 to 30, found 99" in text
    assert "'steps.follow_up': unknown step 'payment'; the steps are review_contact, insurance_card" in text
    assert "'steps.new_patient': expected a list of step names" in text
    assert "'clinic_name': expected a name of 1 to 80 characters" in text
    assert len(found) == 11


def test_a_kiosk_ignores_what_a_newer_server_adds_and_agent_keys_out_of_its_range():
    settings = parse_site_config({"site_name": "X", "checkin_keys": {}, "kiosk_theme": "dark",
                                  "heartbeat_interval_seconds": 1})
    assert settings.site_name == "X"
    assert problems_of([]) == ["the site configuration must be a table of settings (a JSON object)"]


@pytest.mark.parametrize("kind, media_type", [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_a_png_or_jpeg_logo_is_accepted(kind, media_type):
    logo = check_logo(image_bytes(kind), media_type)
    assert logo.media_type == media_type and logo.extension in ("png", "jpg")
    assert parse_site_config({"logo": logo_item(logo)}).logo.data == logo.data


@pytest.mark.parametrize("data, media_type, expected", [
    (b"", None, "the file is empty"),
    (image_bytes("GIF"), None, "a GIF image; use a PNG or JPEG file"),
    (image_bytes("PNG")[:60], None, "not a readable PNG or JPEG image"),
    (b"GIF89a not really", None, "not a readable PNG or JPEG image"),
    (image_bytes("PNG", (3000, 10)), None, "3000x10 pixels is too large; at most 2048 pixels a side"),
    (image_bytes("JPEG"), "image/png", "says image/png but the image is image/jpeg"),
])
def test_a_logo_that_cannot_be_shown_is_refused(data, media_type, expected):
    with pytest.raises(SiteConfigError, match=expected):
        check_logo(data, media_type)


def test_a_logo_too_large_in_bytes_is_refused_before_decoding():
    noisy = Image.frombytes("RGB", (400, 400), bytes(range(256)) * 1875)
    out = io.BytesIO()
    noisy.save(out, "PNG", compress_level=0)
    assert len(out.getvalue()) > MAX_LOGO_BYTES
    with pytest.raises(SiteConfigError, match="too large; at most 256 KiB"):
        check_logo(out.getvalue())
    for item, expected in (({"media_type": "image/gif", "data": ""}, "image/png or image/jpeg"),
                           ({"media_type": "image/png", "data": "not base64!"}, "not base64"),
                           ({"media_type": "image/png"}, "expected")):
        assert expected in " ".join(problems_of({"logo": item}))
    big = {"media_type": "image/png", "data": base64.b64encode(b"x" * (MAX_LOGO_BYTES + 10)).decode()}
    assert "larger than 256 KiB" in problems_of({"logo": big})[0]


def test_site_settings_are_laid_over_the_kiosks_own_configuration(tmp_path):
    local = load_config(None, {"KIOSK_DATA_DIR": str(tmp_path / "d"), "KIOSK_KEY_FILE": str(tmp_path / "k" / "key"),
                               "HOME": str(tmp_path)})
    current = local.__class__(**{**local.__dict__, "receipt_printer": "file:/tmp/r.txt"})
    site = parse_site_config({"clinic_name": "Hillside", "languages": ["vi", "en"], "idle_warning_seconds": 30})
    applied = over(current, site, local)
    assert (applied.site_name, applied.languages, applied.idle_warning_seconds) == ("Hillside", ("vi", "en"), 30)
    assert applied.default_language == "en"  # the kiosk's default is offered still
    assert applied.receipt_printer == "file:/tmp/r.txt" and applied.staff_pin_hash == local.staff_pin_hash
    only_vi = over(current, parse_site_config({"languages": ["vi"]}), local)
    assert only_vi.default_language == "vi"  # a default that is not offered cannot stay
    back = over(applied, None, local)  # the site's settings withdrawn: the kiosk's own again
    assert (back.site_name, back.languages, back.idle_warning_seconds) == (
        local.site_name, local.languages, local.idle_warning_seconds)


def test_the_step_names_are_the_journeys():
    assert tuple(step.name for step in default_steps()) == STEP_NAMES


class Named(Step):
    def __init__(self, name):
        self.name = name


def test_a_visit_keeps_the_steps_it_started_with(demo_store):
    clock = lambda: datetime.combine(TEST_TODAY, time(9, 0)).astimezone()  # noqa: E731
    journey = Journey(demo_store, [Named(n) for n in STEP_NAMES], clock)
    maria = DEMO_PATIENTS["maria"]  # a follow_up visit
    site = parse_site_config({"copay": False, "steps": {"follow_up": ["insurance_card", "copay", "forms"]}})
    journey.set_site_steps(site.runs_step)
    journey.begin()
    journey.enter_last_name(maria.last_name)
    journey.enter_birth_date(maria.birth_date)
    assert journey.state == CONFIRM
    with pytest.raises(RuntimeError, match="between visits only"):
        journey.set_site_steps(None)  # mid-visit: refused
    journey.confirm(True)
    visited = [journey.state]
    while journey.state != DONE:
        journey.complete_step(journey.state)
        visited.append(journey.state)
    assert visited == ["insurance_card", "forms", DONE]  # copay off, the rest as the site listed
    journey.end("completed")
    journey.set_site_steps(None)  # between visits: fine
    assert journey.site_steps is None
