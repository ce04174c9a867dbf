"""Form authors' tool.

  python -m kiosk.forms check FILE.json [--languages es[,zh...]]
      every problem in the file, one per line ("error: ..." / "warning: ..."): what the
      parser cannot read (all of it, not only the first), broken scoring expressions, missing
      translations, what the kiosk screens would trip over (a required question no one can
      answer, an option shown as a bare code...), and rules that name items the form lacks.
      Exit 1 on any error,
      0 with only warnings, 2 when the file cannot be read as JSON. Each text without a
      translation into one of --languages (default: the kiosk's configured languages other
      than English) is an error; --languages "" turns that check off.
  python -m kiosk.forms score QUESTIONNAIRE.json RESPONSE.json
      {"total": ..., "band": ..., "flags": [...], "urgent": ...} as JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from kiosk.config import DEFAULT_LANGUAGES
from kiosk.forms.questionnaire import read_questionnaire
from kiosk.forms.rules import TOTAL, Rules, RulesError, apply_rules, find_rules, items_named, load_rules
from kiosk.forms.runner import kiosk_problems
from kiosk.forms.scoring import Score, ScoringError, ScoringModel, item_scores, read_scoring, score_response
from kiosk.forms.translations import missing_translations

EXIT_OK, EXIT_PROBLEMS, EXIT_UNREADABLE = 0, 1, 2
CHECK_LANGUAGES: tuple[str, ...] = tuple(lang for lang in DEFAULT_LANGUAGES if lang != "en")


class Unreadable(Exception):
    pass


def _read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise Unreadable(f"{path}: cannot read as JSON ({type(exc).__name__})") from None


def parse_languages(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def check(path: str, languages: tuple[str, ...] | list[str] = CHECK_LANGUAGES) -> int:
    raw = _read_json(path)
    errors, warnings = check_questionnaire(raw, languages)
    # The same problem on several options of one item is one line.
    errors, warnings = list(dict.fromkeys(errors)), list(dict.fromkeys(warnings))
    for line in errors:
        print(f"error: {line}")
    for line in warnings:
        print(f"warning: {line}")
    return EXIT_PROBLEMS if errors else EXIT_OK


def check_questionnaire(raw: Any, languages: tuple[str, ...] | list[str] = CHECK_LANGUAGES,
                        rules: list[Rules] | None = None) -> tuple[list[str], list[str]]:
    """(errors, warnings): every problem found, not only the first. An error means patients
    must not get the form as it is; a warning is something the author should look at."""
    result = read_questionnaire(raw)
    errors = [str(e) for e in result.errors]
    warnings = list(result.warnings)
    if not isinstance(raw, dict):
        return errors, warnings
    model = read_scoring(raw)
    errors.extend(model.errors)
    warnings.extend(model.warnings)
    if not model.errors:
        # A dry run finds functions the FHIRPath engine lacks (e.g. SDC's answers()).
        try:
            score_response(raw, {"resourceType": "QuestionnaireResponse", "status": "in-progress"})
        except ScoringError as exc:
            errors.append(f"{exc} (the kiosk could not work out the score)")
    errors.extend(missing_translations(raw, languages))
    if result.questionnaire is not None and not result.errors:
        kiosk_errors, kiosk_warnings = kiosk_problems(raw)
        errors.extend(kiosk_errors)
        warnings.extend(kiosk_warnings)
        try:
            all_rules = load_rules() if rules is None else rules
        except RulesError as exc:
            warnings.append(f"rules not checked: {exc}")
        else:
            warnings.extend(_rules_problems(all_rules, raw, model))
    return errors, warnings


def _rules_problems(all_rules: list[Rules], raw: dict[str, Any], model: ScoringModel) -> list[str]:
    """A rules file that matches this form but flags an item the form does not have."""
    rules = find_rules(all_rules, raw)
    if rules is None:
        return []
    out = []
    for flag in rules.flags:
        if flag.item != TOTAL and not items_named(model, flag.item):
            out.append(f"rules {rules.name!r} ({rules.source}): flag {flag.name!r} names item {flag.item!r}, "
                       "which this form does not have (the flag can never be raised)")
        elif flag.item == TOTAL and not model.option_scores and not model.calculated:
            out.append(f"rules {rules.name!r} ({rules.source}): flag {flag.name!r} needs a total, but this form "
                       "has no scores")
    return out


def score(questionnaire_path: str, response_path: str) -> int:
    raw_q = _read_json(questionnaire_path)
    response = _read_json(response_path)
    if not isinstance(raw_q, dict) or not isinstance(response, dict):
        raise Unreadable("both files must hold a JSON object")
    # Scoring needs the answers' scores, not screens: an item the kiosk could not show (a
    # publisher's quantity total, say) is reported and the response is scored all the same.
    parsed = read_questionnaire(raw_q)
    if parsed.questionnaire is None:
        for problem in parsed.errors:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_PROBLEMS
    for problem in parsed.errors:
        print(f"warning: {problem} (not needed for the score)", file=sys.stderr)
    try:
        rules = find_rules(load_rules(), raw_q)
    except RulesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    model = read_scoring(raw_q)
    problem = None
    try:
        result = score_response(raw_q, response, total_link_id=rules.total_link_id if rules else None)
    except ScoringError as exc:
        # No total, but the flags on single answers (self-harm) still count: they are printed.
        problem = str(exc)
        result = Score(None, item_scores(model, response))
    out: dict[str, Any] = {"total": result.total, "band": None, "flags": [], "urgent": False,
                           "rules": rules.name if rules else None}
    if rules is not None:
        outcome = apply_rules(rules, model, result)
        out.update(band=outcome.band, flags=list(outcome.flags), urgent=outcome.urgent)
    if problem is not None:
        out["problem"] = problem
        print(json.dumps(out))
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(json.dumps(out))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.forms")
    sub = parser.add_subparsers(dest="command", required=True)
    checker = sub.add_parser("check", help="list problems in a Questionnaire")
    checker.add_argument("file")
    checker.add_argument("--languages", type=parse_languages, default=CHECK_LANGUAGES,
                         metavar="es[,zh...]",
                         help="languages every text must be translated into "
                              f"(default: {','.join(CHECK_LANGUAGES) or 'none'}; \"\" to skip)")
    scorer = sub.add_parser("score", help="score a QuestionnaireResponse")
    scorer.add_argument("questionnaire")
    scorer.add_argument("response")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return check(args.file, args.languages)
        return score(args.questionnaire, args.response)
    except Unreadable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE


if __name__ == "__main__":
    sys.exit(main())
