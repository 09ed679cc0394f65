"""What every command shares: settings from QA_* variables and flags, the unloaded pipeline, the common flags, and
the error a user can fix."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from qa.config import Settings


class UserError(Exception):
    """A problem the user can fix; printed as one line, no traceback."""


def settings_of(args) -> Settings:
    """Settings from QA_* variables, with the flags a command was given on top."""
    flags = {"index_dir": "index_dir", "corpus": "corpus", "kind": "index_kind"}
    overrides = {field: getattr(args, flag) for flag, field in flags.items() if getattr(args, flag, None)}
    try:
        return Settings(**overrides)
    except ValidationError as exc:  # e.g. a raw key in QA_API_KEYS: one line, not a traceback
        problems = "; ".join(f"QA_{'_'.join(map(str, e['loc'])).upper()}: {e['msg'].removeprefix('Value error, ')}"
                             for e in exc.errors())
        raise UserError(f"invalid setting: {problems}") from exc


def pipeline_of(args):
    """Unloaded: the question is checked before any model is loaded."""
    from qa.pipeline import Pipeline

    return Pipeline(settings_of(args))


def index_options(p, corpus: bool = True) -> None:
    p.add_argument("--index-dir", type=Path, help="index folder (default: $QA_HOME/index)")
    if corpus:
        p.add_argument("--corpus", type=Path, help="document (default: the bundled UN report)")
