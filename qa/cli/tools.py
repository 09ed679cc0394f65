"""The tools' commands: `qa eval` (answer accuracy), `qa feedback export`, `qa train-reader`,
`qa average-readers` and `qa mine-negatives` (the reader's training) and `qa train-query-map` (English
retrieval's; torch is imported only here, inside the commands)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from qa.cli.common import UserError, index_options, settings_of


def register(sub) -> None:
    p = sub.add_parser("eval", help="measure retrieval and answer accuracy on a question set")
    p.add_argument("dataset", type=Path, nargs="?", help="JSONL (project format) or SQuAD-format JSON")
    p.add_argument("--retrieval-only", action="store_true", help="measure retrieval only (no reader)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--output", type=Path, help="also write the JSON result to this file")
    p.add_argument("--report", type=Path, help="write a self-contained HTML report with plots and misses")
    p.add_argument("--url", help="evaluate a running deployment (e.g. http://127.0.0.1:8000) instead of in-process")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"), help="compare two saved JSON results")
    index_options(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("feedback", help="readers' feedback collected by POST /v1/feedback")
    fsub = p.add_subparsers(dest="feedback_command", required=True, metavar="ACTION")
    f = fsub.add_parser("export", help="write the feedback as eval questions (JSONL, the format `qa eval` reads)")
    f.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    f.add_argument("--index-dir", type=Path, help="index whose feedback to export (default: $QA_HOME/index)")
    f.set_defaults(func=cmd_feedback_export)

    p = sub.add_parser("train-reader", help="train the extractive reader on SQuAD-format data")
    p.add_argument("--data", type=Path, nargs="+", required=True, help="SQuAD-format files (DRCD, CMRC 2018)")
    p.add_argument("--output", type=Path, help="where the reader and its checkpoint are written (default: "
                   "$QA_HOME/train/reader); a checkpoint there from the same job is resumed")
    p.add_argument("--epochs", type=float)
    p.add_argument("--lr", type=float)
    p.add_argument("--negative-share", type=float, help="share of answer-less windows kept each epoch")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--checkpoint-minutes", type=float, help="minutes between checkpoints (default 15)")
    p.add_argument("--device", default="auto", help="auto (GPU if present), cpu or cuda")
    p.add_argument("--fresh", action="store_true", help="start over, replacing OUTPUT/checkpoint.pt (by default a "
                   "checkpoint of the same job continues, and one of another job stops with an error)")
    p.add_argument("--bundle-out", type=Path, help="instead of training, write a bundle to train elsewhere")
    p.add_argument("--recipe", type=Path, help="JSON training mix: translations, code-switched and unanswerable "
                   "questions, English SQuAD (qa/train/augment.py)")
    p.add_argument("--init-from", type=Path, help="continue from a trained reader's folder (e.g. qa/bundled/reader)")
    p.set_defaults(func=cmd_train_reader)

    p = sub.add_parser("average-readers", help="average trained readers' weights into a new reader")
    p.add_argument("readers", type=Path, nargs="+", help="reader folders (reader-*.safetensors + reader.json)")
    p.add_argument("--output", type=Path, required=True, help="where the averaged reader is written")
    p.add_argument("--data", type=Path, nargs="+", help="the training files (DRCD, CMRC 2018): validate the "
                   "average on the same held-out DRCD articles as train-reader")
    p.set_defaults(func=cmd_average_readers)

    p = sub.add_parser("train-query-map", help="fit the map that brings English questions' vectors nearer the "
                       "Chinese passages that answer them")
    p.add_argument("--data", type=Path, nargs="+", required=True, help="SQuAD-format files whose questions were "
                   "translated (DRCD, CMRC 2018); each is indexed once under $QA_HOME/train/indexes")
    p.add_argument("--translations", type=Path, nargs="+", required=True, help='JSONL {"id", "question"}: '
                   "English translations of questions of those files (data/train/*-en*.jsonl)")
    p.add_argument("--output", type=Path, help="map file to write (default: $QA_HOME/train/english-query-map.npz; "
                   "the service uses qa/bundled/english-query-map.npz)")
    p.set_defaults(func=cmd_train_query_map)

    p = sub.add_parser("mine-negatives", help="find each training question's hard negative: the paragraph retrieval "
                       "ranks highest that is not its own and does not answer it (recipe key retriever_negatives)")
    p.add_argument("--data", type=Path, nargs="+", required=True, help="SQuAD-format files (DRCD, CMRC 2018); each "
                   "is indexed once under $QA_HOME/train/indexes and its questions searched over it")
    p.add_argument("--translations", type=Path, nargs="*", default=[], help='JSONL {"id", "question"}: English '
                   "translations of questions of those files; they are searched in English too")
    p.add_argument("--depth", type=int, default=5, help="ranks searched for a negative (default 5)")
    p.add_argument("--output", type=Path, required=True, help="JSONL to write (data/train/retriever-negatives.jsonl)")
    p.set_defaults(func=cmd_mine_negatives)


def cmd_eval(args) -> int:
    from qa.eval import EvalError, run_eval_command

    try:
        return run_eval_command(args, settings_of(args))
    except EvalError as exc:
        raise UserError(str(exc)) from exc


def cmd_feedback_export(args) -> int:
    from qa.feedback import FeedbackError, FeedbackStore, feedback_path

    path = feedback_path(settings_of(args))
    try:
        rows, skipped = FeedbackStore(path).export_rows()
    except FeedbackError as exc:
        raise UserError(str(exc)) from exc
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.output.with_name(f".{args.output.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, args.output)
    else:
        sys.stdout.write(text)
    note = f" ({skipped} skipped: not helpful and no correct answer given, or superseded)" if skipped else ""
    where = f" to {args.output}" if args.output else ""
    print(f"exported {len(rows)} questions from {path}{where}{note}", file=sys.stderr)
    return 0


def cmd_train_reader(args) -> int:
    from embeddings.e5_package import ensure_packaged_model
    from embeddings.e5_weights import packaged_weights_path
    from qa.train import TrainConfig, make_bundle, train_reader
    from qa.train.augment import RECIPE_COUNTS, RECIPE_KEYS
    from qa.train.loop import CheckpointError
    from qa.train.negatives import read_rows

    overrides = {k: v for k, v in {"epochs": args.epochs, "lr": args.lr, "negative_share": args.negative_share,
                                   "batch_size": args.batch_size, "seed": args.seed,
                                   "checkpoint_minutes": args.checkpoint_minutes}.items() if v is not None}
    cfg = TrainConfig(**overrides)
    s = settings_of(args)
    encoder_dir = ensure_packaged_model(s.model_cache_dir)
    missing = [str(p) for p in args.data if not p.is_file()]
    if missing:
        raise UserError(f"training data not found: {', '.join(missing)}")
    if args.bundle_out:
        make_bundle(args.data, encoder_dir, packaged_weights_path(), args.bundle_out, cfg)
        print(f"bundle written to {args.bundle_out}; train it with `python -m qa.train.bundle {args.bundle_out} OUT`")
        return 0
    recipe = None
    if args.recipe:
        try:
            recipe = json.loads(args.recipe.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"recipe {args.recipe}: {exc}") from exc
        if not isinstance(recipe, dict):
            raise UserError(f"recipe {args.recipe}: expected a JSON object (see data/train/recipe-v5.json)")
        if unknown := sorted(set(recipe) - RECIPE_KEYS):
            raise UserError(f"recipe {args.recipe}: unknown keys {', '.join(unknown)} "
                            f"(known: {', '.join(sorted(RECIPE_KEYS))})")
        if bad := sorted(k for k in RECIPE_COUNTS & set(recipe)
                         if not isinstance(recipe[k], int) or isinstance(recipe[k], bool) or recipe[k] < 0):
            raise UserError(f"recipe {args.recipe}: {', '.join(bad)} must be whole numbers >= 0")
        named = [*recipe.get("translations", []), *recipe.get("written", []),
                 *(recipe[k] for k in ("english_squad", "retriever_negatives") if recipe.get(k))]
        if absent := [p for p in named if not Path(p).is_file()]:
            raise UserError(f"recipe {args.recipe}: file not found: {', '.join(absent)}")
        if recipe.get("retriever_negatives"):
            try:
                read_rows(Path(recipe["retriever_negatives"]))
            except (ValueError, UnicodeDecodeError) as exc:
                raise UserError(f"recipe {args.recipe}: {exc}") from exc
    if args.init_from and not any(args.init_from.glob("reader-*.safetensors")):
        raise UserError(f"--init-from {args.init_from}: no reader-*.safetensors there")
    output = args.output or s.home / "train" / "reader"
    if (output / "checkpoint.pt").is_file() and not args.fresh:
        print(f"continuing from {output / 'checkpoint.pt'} (--fresh starts over)", file=sys.stderr)
    try:
        info = train_reader(args.data, encoder_dir, output, cfg, args.device, not args.fresh, recipe, args.init_from)
    except CheckpointError as exc:
        raise UserError(f"{exc}; --fresh starts over, or give another --output") from exc
    print(f"reader written to {output}", file=sys.stderr)
    print(json.dumps(info["validation"]))
    return 0


def cmd_average_readers(args) -> int:
    from embeddings.e5_package import ensure_packaged_model
    from qa.train.average import AverageError, average_readers

    if len(args.readers) < 2:
        raise UserError("give two reader folders or more")
    missing = [str(p) for p in [*args.readers, *(args.data or [])] if not p.exists()]
    if missing:
        raise UserError(f"not found: {', '.join(missing)}")
    if args.output.resolve() in {d.resolve() for d in args.readers}:
        raise UserError("--output must be a new folder, not one of the readers averaged")
    encoder_dir = ensure_packaged_model(settings_of(args).model_cache_dir)
    try:
        meta = average_readers(args.readers, args.output, encoder_dir, args.data)
    except AverageError as exc:
        raise UserError(str(exc)) from exc
    print(f"the mean of {len(args.readers)} readers written to {args.output}"
          + (f"; held-out DRCD F1 {meta['validation']['f1']}" if meta["validation"] else ""))
    return 0


def _translations(data: list[Path], translations: list[Path]) -> dict[str, str]:
    """The English translations (id -> question) of the training tools, once their files are known to exist."""
    from qa.train.query_map import translations_of

    if missing := [str(p) for p in [*data, *translations] if not p.is_file()]:
        raise UserError(f"not found: {', '.join(missing)}")
    try:
        return translations_of(translations)
    except (ValueError, KeyError) as exc:
        raise UserError(f"translations: not JSONL of {{\"id\", \"question\"}} lines ({exc})") from exc


def _training_index(path: Path, s):
    """A retrieval-only pipeline over one SQuAD file's paragraphs, indexed once under $QA_HOME/train/indexes."""
    from qa.eval import EvalError, squad_pipeline

    print(f"indexing or reusing the paragraphs of {path.name} ...", file=sys.stderr)
    try:
        return squad_pipeline(path, s, index_dir=s.home / "train" / "indexes" / path.stem, with_reader=False,
                              progress=True)
    except EvalError as exc:
        raise UserError(str(exc)) from exc


def cmd_mine_negatives(args) -> int:
    from qa.train.negatives import mine, write_rows

    if args.depth < 1:
        raise UserError("--depth must be at least 1")
    english = _translations(args.data, args.translations)
    s = settings_of(args)
    rows = []
    for path in args.data:
        pipeline = _training_index(path, s)
        rows += mine(pipeline, path, depth=args.depth, progress=True)
        if english:
            rows += mine(pipeline, path, english, depth=args.depth, progress=True)
    write_rows(rows, args.output)
    counts = {lang: sum(r["language"] == lang for r in rows) for lang in ("zh", "en")}
    print(f"{len(rows)} negatives ({counts['zh']} Chinese, {counts['en']} English) written to {args.output}",
          file=sys.stderr)
    return 0


def cmd_train_query_map(args) -> int:
    from qa.retrieval.query_map import QueryMap
    from qa.train.query_map import MapConfig, examples_from, fit_query_map

    english = _translations(args.data, args.translations)
    # the candidates come from the unmapped vectors: the map being fitted starts from the identity
    s = settings_of(args).model_copy(update={"map_english_queries": False})
    cfg = MapConfig(sentence_weight=s.sentence_weight)  # score passages as retrieval will
    examples = []
    for path in args.data:
        pipeline = _training_index(path, s)
        found = examples_from(pipeline.index, pipeline.embedder, path, english, cfg)
        print(f"{path.name}: {len(found)} translated questions", file=sys.stderr)
        examples += found
    if not examples:
        raise UserError("no translated question matches a question of the data files (ids must agree)")
    matrix, report = fit_query_map(examples, cfg)
    output = args.output or s.home / "train" / "english-query-map.npz"
    QueryMap(matrix, s.embedding_model, {"fit": report, "data": [p.name for p in args.data],
                                         "translations": [p.name for p in args.translations]}).write(output)
    print(f"query map written to {output}", file=sys.stderr)
    print(json.dumps(report))
    return 0
