from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract

from kiosk.i18n_kv_extractor import extract_kv

KV = '''\
#:import tr kiosk.widgets.tr.tr
#:set greeting tr._("Welcome")
<Welcome@Screen>:
    Label:
        # TRANSLATORS: the big button on the welcome screen
        # keep it short
        text: tr._("Check in")
    Label:
        text: app.tr._('Next') + " " + _("Back")
    # text: tr._("Commented out")
    Label:
        text: tr.ngettext("{n} form", "{n} forms", root.count).format(n=root.count)
    Label:
        text: tr._(root.dynamic)
    Label:
        color: "#ff0000"
        text: tr._("Multi "
            "line")
    Label:
        text: foo_("not me") + tr._(f"no {root.x}")
    Label:
        text: tr._("Don\\'t \\"quote\\" me")
'''


def run(text: str, comment_tags=("TRANSLATORS:",)) -> list[tuple]:
    return list(extract_kv(io.BytesIO(text.encode()), DEFAULT_KEYWORDS, list(comment_tags), {}))


def test_extracts_calls() -> None:
    assert run(KV) == [
        (2, "_", "Welcome", []),
        (7, "_", "Check in", ["TRANSLATORS: the big button on the welcome screen", "keep it short"]),
        (9, "_", "Next", []),
        (9, "_", "Back", []),
        (12, "ngettext", ("{n} form", "{n} forms", None), []),
        (17, "_", "Multi line", []),
        (22, "_", 'Don\'t "quote" me', []),
    ]


def test_comments_only_with_tags() -> None:
    assert run(KV, comment_tags=())[1] == (7, "_", "Check in", [])


def test_unbalanced_call_is_skipped() -> None:
    assert run('Label:\n    text: tr._("broken"\n') == []


def test_registered_with_babel(tmp_path: Path) -> None:
    # "kv" resolves through the babel.extractors entry point in pyproject.toml.
    found = list(extract("kv", io.BytesIO(KV.encode()), comment_tags=["TRANSLATORS:"]))
    ids = [m[1] for m in found]
    assert "Check in" in ids and ("{n} form", "{n} forms") in ids
    assert found[1][2] == ["TRANSLATORS: the big button on the welcome screen", "keep it short"]


def test_repo_babel_cfg_maps_kv() -> None:
    cfg = (Path(__file__).resolve().parents[2] / "babel.cfg").read_text()
    assert "[python: kiosk/**.py]" in cfg and "[kv: kiosk/**.kv]" in cfg
