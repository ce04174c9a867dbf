from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kiosk import staff_pin
from kiosk.config import ConfigError, KioskConfig, config_path_from_argv, load_config

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "kiosk" / "config.example.toml"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    return {"HOME": str(home)}


def write(tmp_path: Path, text: str, name: str = "kiosk.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def errors_of(path: Path | None, env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, env)
    return str(info.value)


# -- defaults and sources -----------------------------------------------------------------

def test_defaults_without_file(home: Path, env: dict[str, str]) -> None:
    cfg = load_config(None, env)
    assert cfg.data_dir == home / ".local/share/clinic-kiosk"
    assert cfg.key_file == home / ".config/clinic-kiosk/data.key"
    assert cfg.log_file == cfg.data_dir / "logs" / "kiosk.log"
    assert cfg.site_name == "Demo Family Clinic"
    assert cfg.server_url is None and cfg.demo is True
    assert cfg.languages == ("en", "es", "zh", "vi", "ar") and cfg.default_language == "en"
    assert cfg.fullscreen is True
    assert (cfg.idle_warning_seconds, cfg.idle_countdown_seconds, cfg.staff_idle_seconds) == (60, 20, 60)
    assert (cfg.max_identify_attempts, cfg.cooldown_seconds, cfg.minutes_per_visit) == (5, 120, 15)
    assert cfg.log_level == "INFO"
    assert cfg.source is None
    assert staff_pin.verify_pin("2468", cfg.staff_pin_hash)


def test_config_is_frozen(env: dict[str, str]) -> None:
    cfg = load_config(None, env)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.site_name = "x"  # type: ignore[misc]


def test_xdg_dirs(tmp_path: Path, env: dict[str, str]) -> None:
    env = {**env, "XDG_DATA_HOME": str(tmp_path / "xd"), "XDG_CONFIG_HOME": str(tmp_path / "xc")}
    cfg = load_config(None, env)
    assert cfg.data_dir == tmp_path / "xd" / "clinic-kiosk"
    assert cfg.key_file == tmp_path / "xc" / "clinic-kiosk" / "data.key"


def test_relative_xdg_is_ignored(home: Path, env: dict[str, str]) -> None:
    cfg = load_config(None, {**env, "XDG_DATA_HOME": "relative/dir"})
    assert cfg.data_dir == home / ".local/share/clinic-kiosk"


def test_env_overrides_defaults_and_file(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path, 'data_dir = "from-file"\nkey_file = "/nowhere/k.key"\n')
    env = {**env, "KIOSK_DATA_DIR": str(tmp_path / "envdata"), "KIOSK_KEY_FILE": str(tmp_path / "env.key")}
    cfg = load_config(path, env)
    assert cfg.data_dir == tmp_path / "envdata"
    assert cfg.key_file == tmp_path / "env.key"
    assert cfg.log_file == tmp_path / "envdata" / "logs" / "kiosk.log"


def test_kiosk_config_env_names_the_file(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path, 'site_name = "Elm Street Clinic"\n')
    cfg = load_config(None, {**env, "KIOSK_CONFIG": str(path)})
    assert cfg.site_name == "Elm Street Clinic"
    assert cfg.source == path


def test_argument_wins_over_env_file(tmp_path: Path, env: dict[str, str]) -> None:
    a = write(tmp_path, 'site_name = "A"\n', "a.toml")
    b = write(tmp_path, 'site_name = "B"\n', "b.toml")
    assert load_config(a, {**env, "KIOSK_CONFIG": str(b)}).site_name == "A"


def test_full_file(tmp_path: Path, env: dict[str, str]) -> None:
    pin_hash = staff_pin.hash_pin("918273")
    path = write(
        tmp_path,
        f"""
site_name = "  Elm Street Clinic "
server_url = "https://practice.example.org/"
data_dir = "data"
key_file = "~/keys/kiosk.key"
log_file = "/var/tmp/k.log"
log_level = "debug"
languages = ["es", "en"]
default_language = "es"
fullscreen = false
idle_warning_seconds = 90
idle_countdown_seconds = 30
staff_idle_seconds = 45
staff_pin_hash = "{pin_hash}"
max_identify_attempts = 3
cooldown_seconds = 300
minutes_per_visit = 20
device_id = "dev-1"
site_id = "site-1"
device_key_file = "/etc/ck/device.key"
sync_interval_seconds = 5
retention_days = 0
""",
    )
    cfg = load_config(path, env)
    assert cfg == KioskConfig(
        data_dir=tmp_path / "data",  # relative to the config file
        key_file=Path(env["HOME"]) / "keys" / "kiosk.key",
        log_file=Path("/var/tmp/k.log"),
        site_name="Elm Street Clinic",
        server_url="https://practice.example.org",
        languages=("es", "en"),
        default_language="es",
        fullscreen=False,
        idle_warning_seconds=90,
        idle_countdown_seconds=30,
        staff_idle_seconds=45,
        staff_pin_hash=pin_hash,
        max_identify_attempts=3,
        cooldown_seconds=300,
        minutes_per_visit=20,
        log_level="DEBUG",
        device_id="dev-1",
        site_id="site-1",
        device_key_file=Path("/etc/ck/device.key"),
        server_ca_file=Path(env["HOME"]) / "keys" / "practice-ca.pem",  # next to key_file
        health_file=tmp_path / "data" / "sync-health.json",
        checkin_keys_file=Path(env["HOME"]) / "keys" / "checkin_keys.json",  # next to key_file
        sync_interval_seconds=5,
        retention_days=0,
    )
    assert cfg.demo is False
    assert cfg.source == path


def test_example_file_is_valid_and_matches_defaults(env: dict[str, str]) -> None:
    cfg = load_config(EXAMPLE, env)
    assert dataclasses.replace(cfg, source=None) == load_config(None, env)


def test_example_documents_every_key() -> None:
    from kiosk.config import KNOWN_KEYS

    text = EXAMPLE.read_text(encoding="utf-8")
    for key in KNOWN_KEYS:
        assert f"{key} =" in text, key


def test_empty_server_url_means_demo(tmp_path: Path, env: dict[str, str]) -> None:
    assert load_config(write(tmp_path, 'server_url = ""\n'), env).demo


def test_http_loopback_allowed(tmp_path: Path, env: dict[str, str]) -> None:
    h = staff_pin.hash_pin("5555")
    cfg = load_config(write(tmp_path, f'server_url = "http://127.0.0.1:8765"\nstaff_pin_hash = "{h}"\n'), env)
    assert cfg.server_url == "http://127.0.0.1:8765"


def test_config_path_from_argv() -> None:
    assert config_path_from_argv(["--tour", "x", "--config", "/etc/k.toml"]) == Path("/etc/k.toml")
    assert config_path_from_argv(["--config=/etc/k.toml"]) == Path("/etc/k.toml")
    assert config_path_from_argv(["--tour", "x"]) is None


# -- errors -------------------------------------------------------------------------------

def test_unknown_key_with_suggestion(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path, "idle_warning_secs = 30\n")
    msg = errors_of(path, env)
    assert str(path) in msg
    assert "unknown key 'idle_warning_secs'" in msg
    assert "did you mean 'idle_warning_seconds'" in msg


def test_unknown_table(tmp_path: Path, env: dict[str, str]) -> None:
    msg = errors_of(write(tmp_path, "[hardware]\ncamera = 'sim'\n"), env)
    assert "unknown table 'hardware'" in msg


def test_string_where_integer_expected(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path, 'idle_warning_seconds = "60"\n')
    msg = errors_of(path, env)
    assert str(path) in msg
    assert "key 'idle_warning_seconds'" in msg
    assert "expected a whole number of seconds between 1 and 3600" in msg
    assert "found a string ('60')" in msg


def test_bool_is_not_an_integer(tmp_path: Path, env: dict[str, str]) -> None:
    msg = errors_of(write(tmp_path, "cooldown_seconds = true\n"), env)
    assert "key 'cooldown_seconds'" in msg and "found a boolean (True)" in msg


def test_float_is_not_an_integer(tmp_path: Path, env: dict[str, str]) -> None:
    msg = errors_of(write(tmp_path, "minutes_per_visit = 12.5\n"), env)
    assert "key 'minutes_per_visit'" in msg and "found a number with a fraction (12.5)" in msg


def test_negative_timeout(tmp_path: Path, env: dict[str, str]) -> None:
    msg = errors_of(write(tmp_path, "idle_countdown_seconds = -5\n"), env)
    assert "key 'idle_countdown_seconds'" in msg
    assert "between 1 and 600" in msg and "found an integer (-5)" in msg


def test_zero_attempts(tmp_path: Path, env: dict[str, str]) -> None:
    msg = errors_of(write(tmp_path, "max_identify_attempts = 0\n"), env)
    assert "key 'max_identify_attempts'" in msg and "found an integer (0)" in msg


def test_fullscreen_must_be_bool(tmp_path: Path, env: dict[str, str]) -> None:
    msg = errors_of(write(tmp_path, 'fullscreen = "yes"\n'), env)
    assert "key 'fullscreen'" in msg and "expected true or false" in msg and "'yes'" in msg


def test_unknown_language(tmp_path: Path, env: dict[str, str]) -> None:
    msg = errors_of(write(tmp_path, 'languages = ["en", "xx"]\n'), env)
    assert "key 'languages'" in msg and "unknown language 'xx'" in msg
    assert "catalogs for en, ar, es, vi, zh" in msg
    assert str(Path("locales") / "xx" / "LC_MESSAGES" / "kiosk.mo") in msg


def test_languages_must_be_array(tmp_path: Path, env: dict[str, str]) -> None:
    msg = errors_of(write(tmp_path, 'languages = "en"\n'), env)
    assert "key 'languages'" in msg and "non-empty array" in msg and "found a string ('en')" in msg


def test_duplicate_languages(tmp_path: Path, env: dict[str, str]) -> None:
    msg = errors_of(write(tmp_path, 'languages = ["en", "en"]\n'), env)
    assert "each language code once" in msg


def test_default_language_not_offered(tmp_path: Path, env: dict[str, str]) -> None:
    msg = errors_of(write(tmp_path, 'languages = ["en"]\ndefault_language = "es"\n'), env)
    assert "key 'default_language'" in msg and "found 'es'" in msg and "(en)" in msg


def test_key_file_inside_data_dir(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path, f'data_dir = "{tmp_path}/d"\nkey_file = "{tmp_path}/d/sub/data.key"\n')
    msg = errors_of(path, env)
    assert "key 'key_file'" in msg and "outside data_dir" in msg
    assert f"{tmp_path}/d/sub/data.key" in msg


def test_key_file_inside_data_dir_from_env(tmp_path: Path, env: dict[str, str]) -> None:
    env = {**env, "KIOSK_DATA_DIR": str(tmp_path / "d"), "KIOSK_KEY_FILE": str(tmp_path / "d" / "k")}
    msg = errors_of(None, env)
    assert "environment variable KIOSK_KEY_FILE" in msg and "outside data_dir" in msg


def test_data_dir_is_a_file(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "afile").write_text("x")
    msg = errors_of(write(tmp_path, 'data_dir = "afile"\n'), env)
    assert "key 'data_dir'" in msg and "expected a directory" in msg


def test_server_without_pin_hash(tmp_path: Path, env: dict[str, str]) -> None:
    msg = errors_of(write(tmp_path, 'server_url = "https://practice.example.org"\n'), env)
    assert "key 'staff_pin_hash' is missing" in msg
    assert "python -m kiosk.staff_pin" in msg


def test_server_with_demo_pin_refused(tmp_path: Path, env: dict[str, str]) -> None:
    h = staff_pin.hash_pin("2468")
    msg = errors_of(write(tmp_path, f'server_url = "https://p.example.org"\nstaff_pin_hash = "{h}"\n'), env)
    assert "demo PIN" in msg


def test_malformed_pin_hash(tmp_path: Path, env: dict[str, str]) -> None:
    msg = errors_of(write(tmp_path, 'staff_pin_hash = "2468"\n'), env)
    assert "key 'staff_pin_hash'" in msg and "scrypt$<n>$<r>$<p>" in msg and "found '2468'" in msg


@pytest.mark.parametrize(
    "url, expected",
    [
        ("ftp://p.example.org", "an https:// URL"),
        ("practice.example.org", "an https:// URL"),
        ("http://practice.example.org", "plain http:// is only allowed for localhost"),
    ],
)
def test_bad_server_url(tmp_path: Path, env: dict[str, str], url: str, expected: str) -> None:
    h = staff_pin.hash_pin("5555")
    msg = errors_of(write(tmp_path, f'server_url = "{url}"\nstaff_pin_hash = "{h}"\n'), env)
    assert "key 'server_url'" in msg and expected in msg and url in msg


def test_bad_log_level(tmp_path: Path, env: dict[str, str]) -> None:
    msg = errors_of(write(tmp_path, 'log_level = "LOUD"\n'), env)
    assert "key 'log_level'" in msg and "DEBUG, INFO" in msg and "'LOUD'" in msg


def test_empty_site_name(tmp_path: Path, env: dict[str, str]) -> None:
    msg = errors_of(write(tmp_path, 'site_name = "   "\n'), env)
    assert "key 'site_name'" in msg


def test_path_must_be_string(tmp_path: Path, env: dict[str, str]) -> None:
    msg = errors_of(write(tmp_path, "data_dir = 5\n"), env)
    assert "key 'data_dir'" in msg and "expected a path string" in msg


def test_invalid_toml_names_line(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path, 'site_name = "ok"\nidle_warning_seconds 60\n')
    msg = errors_of(path, env)
    assert str(path) in msg and "not valid TOML" in msg and "line 2" in msg


def test_missing_file(tmp_path: Path, env: dict[str, str]) -> None:
    msg = errors_of(tmp_path / "nope.toml", env)
    assert str(tmp_path / "nope.toml") in msg and "does not exist" in msg and "--config" in msg


def test_missing_file_from_env(tmp_path: Path, env: dict[str, str]) -> None:
    msg = errors_of(None, {**env, "KIOSK_CONFIG": str(tmp_path / "nope.toml")})
    assert "environment variable KIOSK_CONFIG" in msg


def test_all_problems_reported_at_once(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path, "idle_warning_seconds = -1\nstaff_idle_seconds = 0\nbogus = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env)
    assert len(info.value.problems) == 3
    assert "3 errors" in str(info.value)
