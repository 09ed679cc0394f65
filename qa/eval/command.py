"""`qa eval`: evaluate a question set (or compare two saved results), then print the summary or the
JSON and write what was asked (`--output`, `--report`)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from qa.config import Settings
from qa.eval.backends import HttpBackend, configured_pipeline, squad_pipeline
from qa.eval.compare import compare
from qa.eval.format import format_comparison, format_summary
from qa.eval.questions import EvalError, dataset_format, dataset_info, load_dataset
from qa.eval.score import evaluate


def _read_result(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EvalError(f"{path}: no such file") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EvalError(f"{path}: not a JSON result of `qa eval --json` ({exc})") from exc
    if not isinstance(data, dict) or "metrics" not in data:
        raise EvalError(f"{path}: not a result of `qa eval --json` (no 'metrics')")
    return data


def run_eval_command(args, settings: Settings) -> int:
    """`qa eval`: evaluate a data set (or compare two results) and print/write what was asked."""
    if args.compare:
        diff = compare(_read_result(args.compare[0]), _read_result(args.compare[1]))
        _emit(json.dumps(diff, ensure_ascii=False, indent=2) if args.json else format_comparison(diff))
        return 0
    if args.dataset is None:
        raise EvalError("give a DATASET to evaluate, or --compare OLD.json NEW.json")
    if args.limit is not None and args.limit < 1:
        raise EvalError(f"--limit must be at least 1 (got {args.limit})")
    questions = load_dataset(args.dataset)
    if args.limit:
        questions = questions[: args.limit]
    progress = sys.stderr.isatty() and not os.environ.get("TQDM_DISABLE")
    if args.url:
        system = HttpBackend(args.url, settings.read_k)
    elif dataset_format(args.dataset) == "squad" and not getattr(args, "corpus", None):
        system = squad_pipeline(args.dataset, settings, args.index_dir, with_reader=not args.retrieval_only,
                                progress=progress)
    else:
        system = configured_pipeline(settings, with_reader=not args.retrieval_only, progress=progress)
    result = evaluate(system, questions, retrieval_only=args.retrieval_only, progress=progress)
    result["dataset"] = {**dataset_info(args.dataset, questions), **result["dataset"]}
    if args.limit:
        result["dataset"]["limit"] = args.limit
    if not args.retrieval_only and args.dataset.name in (result["system"].get("reader_training_data") or []):
        result["warnings"] = [
            f"the reader was trained on {args.dataset.name} (all but its held-out articles): answer accuracy here "
            "is optimistic and not comparable to published results; retrieval metrics are unaffected"
        ]
    text = json.dumps(result, ensure_ascii=False, indent=2)
    try:
        if args.output:
            _write_text(args.output, text + "\n")
            print(f"result written to {args.output}", file=sys.stderr)
        if args.report:
            from qa.eval.report import write_report

            write_report(result, args.report)
            print(f"report written to {args.report}", file=sys.stderr)
    except OSError as exc:
        raise EvalError(f"cannot write {exc.filename or 'the output'}: {exc.strerror or exc}") from exc
    _emit(text if args.json else format_summary(result))
    return 0


def _emit(text: str) -> None:
    """Print to stdout; a reader that stops early (`| head`) is not an error worth a traceback."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _write_text(path: Path, text: str) -> None:
    """Written to a temporary name and renamed, so a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
