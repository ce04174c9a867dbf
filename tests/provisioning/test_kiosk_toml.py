"""Updating the kiosk config keeps IT's other keys and comments, and is valid TOML."""
from __future__ import annotations

import tomllib

from provisioning.kiosk_toml import atomic_write, updated_text


def test_updates_in_place_keep_comments_and_other_keys():
    text = '# my kiosk\nsite_name = "Old"\n# server_url = "x"\nlanguages = [\n  "en",\n  "es",\n]\nfullscreen = false\n'
    new = updated_text(text, {"site_name": 'North "side"', "server_url": "https://p.example", "device_id": "d1"})
    assert "# my kiosk" in new and '# server_url = "x"' in new
    data = tomllib.loads(new)
    assert data == {
        "site_name": 'North "side"', "server_url": "https://p.example", "device_id": "d1",
        "languages": ["en", "es"], "fullscreen": False,
    }
    assert new.count("site_name =") == 1


def test_new_file_and_odd_shapes_fall_back_to_a_clean_rewrite():
    assert tomllib.loads(updated_text("", {"a": 1, "b": "x"})) == {"a": 1, "b": "x"}
    # a multi-line value for a key we replace: the line editor cannot, the rewrite must
    text = 'staff_pin_hash = """\nold"""\nlog_level = "INFO"\n'
    assert tomllib.loads(updated_text(text, {"staff_pin_hash": "new"})) == {"staff_pin_hash": "new", "log_level": "INFO"}


def test_atomic_write_sets_mode_and_leaves_no_temp(tmp_path):
    target = tmp_path / "kiosk.toml"
    atomic_write(target, b"a = 1\n", 0o640)
    atomic_write(target, b"a = 2\n", 0o640)
    assert target.read_bytes() == b"a = 2\n" and (target.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["kiosk.toml"]
