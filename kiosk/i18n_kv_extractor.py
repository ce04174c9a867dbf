"""Babel extractor for Kivy `.kv` files.

Finds translation calls in kv rules, e.g. ``text: tr._("Check in")``,
``text: app.tr._('Next')``, plain ``_("Back")`` and
``tr.ngettext("{n} form", "{n} forms", root.count)``.  Comment lines are
skipped, except that a comment with one of Babel's comment tags (for example
``# TRANSLATORS: shown on the welcome screen``) right above a call becomes a
translator comment.  ``#:`` directives (``#:import``, ``#:set``) are not comments.

Registered in pyproject.toml as the Babel extraction method ``kv``
(``[project.entry-points."babel.extractors"]``); babel.cfg maps
``kiosk/**.kv`` to it.  No Kivy here.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

DEFAULT_FUNCTIONS = ("_", "gettext", "ngettext", "pgettext", "N_")

ExtractResult = tuple[int, str, "str | tuple[str | None, ...]", list[str]]


def _call_args(text: str, start: int) -> list[str | None] | None:
    """Parse the arguments of a call whose '(' is at text[start].

    Returns the arguments, where each arg is its string value when it is made only of
    string literals (implicit concatenation allowed), else None.  None when unbalanced.
    """
    depth = 0
    args: list[str | None] = []
    current: list[str] = []
    literal_only = True
    reader = io.StringIO(text[start:]).readline
    try:
        for tok in tokenize.generate_tokens(reader):
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
                if depth == 1:
                    continue
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
                if depth == 0:
                    if current or not literal_only or args:
                        args.append("".join(current) if literal_only and current else None)
                    return args
            if depth == 1 and tok.type == tokenize.OP and tok.string == ",":
                args.append("".join(current) if literal_only and current else None)
                current, literal_only = [], True
                continue
            if tok.type in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
                continue
            if depth == 1 and tok.type == tokenize.STRING and literal_only:
                try:
                    value = ast.literal_eval(tok.string)
                except (ValueError, SyntaxError):
                    literal_only = False
                    continue
                if isinstance(value, str) and not tok.string.lstrip("rRuU").lower().startswith("f"):
                    current.append(value)
                else:
                    literal_only = False
                continue
            if tok.type == tokenize.ENDMARKER:
                return None
            literal_only = False
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    return None


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())
    return starts


def extract_kv(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any] | Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[ExtractResult]:
    """Babel extraction method: yields (lineno, funcname, message(s), comments)."""
    encoding = options.get("encoding", "utf-8") if options else "utf-8"
    text = fileobj.read().decode(encoding)
    names = list(keywords or DEFAULT_FUNCTIONS)
    call_re = re.compile(
        r"(?<![\w.])(?:[A-Za-z_]\w*\s*\.\s*)*(?P<name>"
        + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        + r")\s*(?=\()"
    )
    lines = text.splitlines(keepends=True)
    starts = _line_starts(text)
    pending_comments: list[str] = []
    pending_line = -10
    tags = tuple(comment_tags or ())
    for index, line in enumerate(lines):
        lineno = index + 1
        stripped = line.strip()
        if stripped.startswith("#") and not stripped.startswith("#:"):
            body = stripped[1:].strip()
            if tags and body.startswith(tags):
                pending_comments, pending_line = [body], lineno
            elif pending_comments and pending_line == lineno - 1:
                pending_comments.append(body)
                pending_line = lineno
            continue
        comments = pending_comments if pending_line == lineno - 1 else []
        pending_comments, pending_line = [], -10
        line_start = starts[index]
        for match in call_re.finditer(line):
            paren = line_start + match.end()
            args = _call_args(text, paren)
            if not args or all(a is None for a in args):
                continue
            name = match.group("name")
            messages: str | tuple[str | None, ...]
            messages = args[0] if len(args) == 1 else tuple(args)
            if messages is None:
                continue
            yield lineno, name, messages, list(comments)
