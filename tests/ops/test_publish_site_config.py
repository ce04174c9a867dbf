"""IT publishes a site's kiosk settings (`python -m provisioning publish-config`) on a real
practice database; an enrolled kiosk's signed bundle request gets them, the sync agent's
reply check keeps them, and the kiosk reads them back. Mistakes are listed for IT and
nothing half-done is published."""
from __future__ import annotations

import io
import json

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from kiosk.site_config import parse_site_config
from practice_server import admin
from practice_server.app import create_app
from practice_server.settings import ServerSettings
from provisioning.cli import main
from sync_agent import replies
from sync_agent.errors import TransientError
from tests.server.server_helpers import TZ, enrol

SETTINGS = """\
clinic_name = "Northside Family Clinic"
languages = ["en", "es"]
default_language = "es"
idle_warning_seconds = 45
copay = false

[steps]
follow_up = ["review_contact", "portal"]
default = ["review_contact", "insurance_card"]
"""


@pytest.fixture
def practice(tmp_path):
    url = f"sqlite:///{tmp_path / 'practice.db'}"
    app = create_app(ServerSettings(database_url=url))
    with TestClient(app, raise_server_exceptions=False) as client:
        sessions = app.state.context.write
        with sessions.begin() as db:
            site = admin.create_site(db, "Northside Clinic", TZ)
        yield url, site, enrol(client, sessions, site.id)
    app.state.context.engine.dispose()


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def logo_file(path, kind="PNG"):
    out = io.BytesIO()
    Image.new("RGB", (200, 80), (10, 80, 150)).save(out, kind)
    path.write_bytes(out.getvalue())
    return path


def config_bundle(kiosk, etag=None):
    r = kiosk.get("/api/v1/bundles/config", headers={"If-None-Match": etag} if etag else None)
    return r


def test_published_settings_reach_the_kiosk(practice, tmp_path, capsys):
    url, site, kiosk = practice
    before = config_bundle(kiosk).headers["etag"]
    (tmp_path / "site.toml").write_text(SETTINGS)
    rc, out, err = run(capsys, "publish-config", "--database", url, "--site", "northside clinic",
                       "--file", str(tmp_path / "site.toml"), "--logo", str(logo_file(tmp_path / "logo.png")))
    assert rc == 0, err
    assert "published the settings of Northside Clinic" in out and "between patients" in out
    r = config_bundle(kiosk, before)
    assert r.status_code == 200 and r.headers["etag"] != before and r.headers["etag"].strip('"') in out
    checked = replies.bundle(r.json(), "config", r.headers["etag"])  # what the sync agent keeps
    settings = parse_site_config(checked.items, version=checked.etag)  # what the kiosk app applies
    assert settings.site_name == "Northside Family Clinic" and settings.languages == ("en", "es")
    assert settings.default_language == "es" and settings.idle_warning_seconds == 45 and not settings.copay
    assert settings.logo.media_type == "image/png" and (settings.logo.width, settings.logo.height) == (200, 80)
    assert settings.runs_step("portal", "follow_up") and not settings.runs_step("portal", "new_patient")
    assert checked.items["retention_days"] == 7  # the defaults still fill in the rest

    rc, out, _ = run(capsys, "site-config", "--database", url, "--site", site.id)
    shown = json.loads(out)
    assert rc == 0 and shown["clinic_name"] == "Northside Family Clinic" and shown["logo"]["data"].endswith("bytes)")

    # Published again without --logo: the logo stays; --remove-logo takes it away.
    (tmp_path / "site.toml").write_text(SETTINGS.replace("copay = false", "copay = true"))
    assert run(capsys, "publish-config", "--database", url, "--site", site.id, "--file", str(tmp_path / "site.toml"))[0] == 0
    items = config_bundle(kiosk).json()["items"]
    assert items["copay"] is True and items["logo"]["media_type"] == "image/png"
    assert run(capsys, "publish-config", "--database", url, "--site", site.id, "--file", str(tmp_path / "site.toml"),
               "--remove-logo")[0] == 0
    assert "logo" not in config_bundle(kiosk).json()["items"]


def test_mistakes_are_listed_and_nothing_is_published(practice, tmp_path, capsys):
    url, site, kiosk = practice
    before = config_bundle(kiosk).headers["etag"]
    (tmp_path / "bad.toml").write_text('langauges = ["en"]\ncopay = "no"\n[steps]\nfollow_up = ["payment"]\n')
    rc, _, err = run(capsys, "publish-config", "--database", url, "--site", site.id, "--file", str(tmp_path / "bad.toml"))
    assert rc == 1 and err.startswith("error: the site configuration was not published:")
    assert "\n  - unknown setting 'langauges' (did you mean 'languages'?)" in err
    assert "\n  - 'copay': expected true or false (no quotes), found 'no'" in err
    assert "\n  - 'steps.follow_up': unknown step 'payment'" in err and "Traceback" not in err

    (tmp_path / "es.toml").write_text('languages = ["es", "vi"]\n')  # the default "en" is not offered
    rc, _, err = run(capsys, "publish-config", "--database", url, "--site", site.id, "--file", str(tmp_path / "es.toml"))
    assert rc == 1 and "'default_language': expected one of the languages offered (es, vi), found 'en'" in err

    (tmp_path / "broken.toml").write_text("copay = \n")
    rc, _, err = run(capsys, "publish-config", "--database", url, "--site", site.id, "--file", str(tmp_path / "broken.toml"))
    assert rc == 1 and "not valid TOML" in err

    gif = tmp_path / "logo.gif"
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    rc, _, err = run(capsys, "publish-config", "--database", url, "--site", site.id, "--logo", str(gif))
    assert rc == 1 and "'logo': a GIF image; use a PNG or JPEG file" in err
    rc, _, err = run(capsys, "publish-config", "--database", url, "--site", "Nowhere", "--logo", str(gif))
    assert rc == 1 and "no site 'Nowhere'; sites: Northside Clinic" in err
    assert config_bundle(kiosk, before).status_code == 304  # still the same settings


def test_the_agent_keeps_no_config_the_kiosk_would_refuse():
    body = {"kind": "config", "version": "9", "items": {"site_name": "X", "languages": ["en"], "copay": "yes"}}
    with pytest.raises(TransientError) as caught:
        replies.bundle(body, "config", '"9"')
    assert caught.value.code == "bad_reply" and "'copay': expected true or false" in str(caught.value)
