"""`python -m kiosk`: the touchscreen kiosk. `--tour DIR` runs the scripted demo tour."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiosk.config import ConfigError, load_config
from kiosk.logging_setup import configure_logging


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m kiosk", description="Clinic check-in kiosk")
    parser.add_argument("--config", type=Path, help="TOML configuration file (default: $KIOSK_CONFIG or built-in demo)")
    parser.add_argument("--tour", type=Path, metavar="DIR", help="run the scripted demo tour and save one PNG per step to DIR")
    parser.add_argument("--windowed", action="store_true", help="run in a 1280x800 window instead of fullscreen")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = load_config(args.config)
    except ConfigError as problem:
        print(f"kiosk: configuration problem:\n{problem}", file=sys.stderr)
        return 2
    configure_logging(config.log_file, config.log_level)

    from kiosk.kivy_setup import configure_kivy

    configure_kivy(config.data_dir / "kivy", fullscreen=config.fullscreen and not (args.tour or args.windowed))

    from kiosk.i18n import CatalogError, init_translator

    try:
        init_translator(config.languages, config.default_language)
    except CatalogError as problem:
        print(f"kiosk: language files problem: {problem}", file=sys.stderr)
        return 2
    if args.tour:
        from kiosk.tour import run_tour

        return run_tour(config, args.tour)
    from kiosk.app import KioskApp

    # The database opens right after the first frame (see KioskApp.ensure_store).
    KioskApp(config, store_opener=lambda: open_kiosk_store(config)).run()
    return 0


def open_kiosk_store(config):
    """Open (migrating if needed) the local database; fill it with the demo clinic in demo mode."""
    from kiosk.app import utc_now
    from kiosk.store import open_store

    store = open_store(config.data_dir, config.key_file)
    if config.demo:
        store.load_demo_clinic(utc_now().astimezone().date())
    return store


if __name__ == "__main__":
    sys.exit(main())
