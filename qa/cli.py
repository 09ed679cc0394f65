"""The `qa` command line: index, search, ask, serve, eval, feedback, train-reader, average-readers."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from pydantic import ValidationError

from qa.config import Settings

EXAMPLES = """examples:
  qa index                                   index the bundled UN report
  qa search "2022年人道主義援助籌集了多少資金?" -k 3
  qa ask "How many people did humanitarian aid reach in 2022?" --json
  qa serve --port 8000                       HTTP API, docs at /docs, demo at /
  qa eval ../shared/data/un-report-dev.jsonl --report report.html
  qa eval --compare before.json after.json   what a change did (save results with --output)
settings come from QA_* environment variables (QA_HOME, QA_TOP_K, QA_THREADS, ...); see README."""


class UserError(Exception):
    """A problem the user can fix; printed as one line, no traceback."""


def _settings(args) -> Settings:
    """Settings from QA_* variables, with the flags a command was given on top."""
    flags = {"index_dir": "index_dir", "corpus": "corpus", "kind": "index_kind"}
    overrides = {field: getattr(args, flag) for flag, field in flags.items() if getattr(args, flag, None)}
    try:
        return Settings(**overrides)
    except ValidationError as exc:  # e.g. a raw key in QA_API_KEYS: one line, not a traceback
        problems = "; ".join(f"QA_{'_'.join(map(str, e['loc'])).upper()}: {e['msg'].removeprefix('Value error, ')}"
                             for e in exc.errors())
        raise UserError(f"invalid setting: {problems}") from exc


def _pipeline(args):
    """Unloaded: the question is checked before any model is loaded."""
    from qa.pipeline import Pipeline

    return Pipeline(_settings(args))


def cmd_index(args) -> int:
    from qa.storage.layout import index_exists
    from qa.storage.lifecycle import add_to_index, build_index, delete_from_index, index_location, index_problem

    s = _settings(args)
    where = index_location(s)
    if (args.add or args.delete) and s.vector_store != "milvus":
        raise UserError("--add and --delete change a Milvus collection (QA_VECTOR_STORE=milvus); "
                        "an index folder is rebuilt whole with `qa index --corpus`")
    if args.add:
        added = add_to_index(s, args.add, progress=sys.stderr.isatty())
        print(f"added {added} passages from {args.add} to {where}")
        return 0
    if args.delete:
        print(f"deleted {delete_from_index(s, args.delete)} passages of {Path(args.delete).name} from {where}")
        return 0
    if args.if_needed:
        problem = index_problem(s, corpus=s.corpus)
        if problem is None:
            print(f"index in {where} is up to date")
            return 0
        if s.vector_store == "faiss" and not index_exists(s.resolved_index_dir):
            print(f"no index yet in {where}: building it", file=sys.stderr)
        else:
            print(f"rebuilding the index: {problem}", file=sys.stderr)
    manifest = build_index(s, progress=sys.stderr.isatty())
    print(f"indexed {manifest['passages']} passages from {s.corpus} into {where} ({manifest['index_kind']})")
    return 0


def cmd_search(args) -> int:
    from qa.present import citation, language_of, search_response

    pipeline = _pipeline(args)
    hits = pipeline.search(args.question, args.k)
    if args.json:
        print(json.dumps(search_response(args.question, hits), ensure_ascii=False, indent=2))
        return 0
    language = language_of(args.question)
    for rank, hit in enumerate(hits, 1):
        text = hit.passage.text if len(hit.passage.text) <= 160 else hit.passage.text[:160] + "…"
        print(f"{rank}. [{citation(hit.passage, language)}] score {hit.score:.2f}\n   {text}")
    return 0


def cmd_ask(args) -> int:
    from qa.present import ask_response, citation, language_of, no_answer_message

    pipeline = _pipeline(args)
    result = pipeline.ask(args.question, args.k)
    if args.json:
        print(json.dumps(ask_response(result), ensure_ascii=False, indent=2))
        return 0
    language = language_of(result.question)
    if result.no_answer:
        print(no_answer_message(result))
        for hit in result.hits[:3]:
            print(f"  [{citation(hit.passage, language)}] {hit.passage.text[:120]}…")
        return 0
    for answer in result.answers:
        print(f"{answer.text}   ({citation(answer.passage, language)}, score {answer.score:.2f})")
        print(f"   …{answer.context}…")
    print(f"({result.timings_ms['total']:.0f} ms)", file=sys.stderr)
    return 0


def cmd_serve(args) -> int:
    import uvicorn

    from api.app import create_app  # the one command that reaches up into api/: it runs the app
    from qa.pipeline import Pipeline
    from qa.storage.lifecycle import ensure_index

    s = _settings(args)
    ensure_index(s, progress=sys.stderr.isatty())  # builds one when there is none; a stale one is refused
    app = create_app(s, Pipeline(s).load())  # loaded here, a model problem is one line, not the server's traceback
    uvicorn.run(app, host=args.host or s.host, port=args.port or s.port, log_level="info", **serve_options(s))
    return 0


def serve_options(s: Settings) -> dict:
    """What uvicorn itself enforces (docs/DEPLOYMENT.md): idle keep-alive connections closed, request heads
    bounded, connections capped (503 past it), the client address taken from trusted proxies only. h11 is
    named so the head limit holds; it has no timeout for a head sent slowly: that is the proxy's job."""
    return {"http": "h11", "timeout_keep_alive": s.keep_alive_s, "h11_max_incomplete_event_size": s.max_header_bytes,
            "limit_concurrency": s.max_connections, "proxy_headers": True, "forwarded_allow_ips": s.trusted_proxies,
            "server_header": False, "timeout_graceful_shutdown": 10}


def cmd_keys(args) -> int:
    from api.security import hash_key, new_key

    if args.keys_command == "new":
        key = new_key()
        print(f"key     {key}\nsha256  {hash_key(key)}")
        print("give the key to its holder; put only the sha256 in QA_API_KEYS or QA_ADMIN_KEYS "
              "(a JSON list: QA_API_KEYS='[\"SHA256\", ...]')", file=sys.stderr)
        return 0
    key = args.key if args.key is not None else sys.stdin.readline().strip()
    if not key:
        raise UserError("no key given (pass it, or one line on standard input)")
    print(hash_key(key))
    return 0


def cmd_eval(args) -> int:
    from qa.eval import EvalError, run_eval_command

    try:
        return run_eval_command(args, _settings(args))
    except EvalError as exc:
        raise UserError(str(exc)) from exc


def cmd_feedback_export(args) -> int:
    from qa.feedback import FeedbackError, FeedbackStore, feedback_path

    path = feedback_path(_settings(args))
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
    from embeddings.e5_package import ensure_packaged_model, packaged_weights_path
    from qa.train import TrainConfig, make_bundle, train_reader
    from qa.train.augment import RECIPE_COUNTS, RECIPE_KEYS

    overrides = {k: v for k, v in {"epochs": args.epochs, "lr": args.lr, "negative_share": args.negative_share,
                                   "batch_size": args.batch_size, "seed": args.seed,
                                   "checkpoint_minutes": args.checkpoint_minutes}.items() if v is not None}
    cfg = TrainConfig(**overrides)
    s = _settings(args)
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
        named = [*recipe.get("translations", []), *([recipe["english_squad"]] if recipe.get("english_squad") else [])]
        if absent := [p for p in named if not Path(p).is_file()]:
            raise UserError(f"recipe {args.recipe}: file not found: {', '.join(absent)}")
    if args.init_from and not any(args.init_from.glob("reader-*.safetensors")):
        raise UserError(f"--init-from {args.init_from}: no reader-*.safetensors there")
    info = train_reader(args.data, encoder_dir, args.output, cfg, args.device, args.resume, recipe, args.init_from)
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
    encoder_dir = ensure_packaged_model(_settings(args).model_cache_dir)
    try:
        meta = average_readers(args.readers, args.output, encoder_dir, args.data)
    except AverageError as exc:
        raise UserError(str(exc)) from exc
    print(f"the mean of {len(args.readers)} readers written to {args.output}"
          + (f"; held-out DRCD F1 {meta['validation']['f1']}" if meta["validation"] else ""))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa", description="Answer questions about a document with verbatim, cited spans.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p, corpus: bool = True):
        p.add_argument("--index-dir", type=Path, help="index folder (default: $QA_HOME/index)")
        if corpus:
            p.add_argument("--corpus", type=Path, help="document (default: the bundled UN report)")

    p = sub.add_parser("index", help="parse the document, embed it, write the index")
    common(p)
    p.add_argument(
        "--kind", choices=["flat", "hnsw"], help="flat: exact (default); hnsw: approximate, for large corpora"
    )
    p.add_argument("--if-needed", action="store_true", help="do nothing when the index is present and up to date")
    p.add_argument("--add", type=Path, metavar="DOCUMENT",
                   help="QA_VECTOR_STORE=milvus: add one document to the collection (or replace the one with its "
                        "file name), embedding only it; serving replicas see it on their next request")
    p.add_argument("--delete", metavar="DOCUMENT", help="QA_VECTOR_STORE=milvus: remove a document's passages "
                   "(its file name, as --add or the first `qa index` named it)")
    p.set_defaults(func=cmd_index)

    for name, func, helptext in (("search", cmd_search, "show the passages that best match a question"),
                                 ("ask", cmd_ask, "answer a question with a cited span of the document")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("question")
        p.add_argument("-k", type=int, default=None, help="passages to retrieve (default 5)")
        p.add_argument("--json", action="store_true", help="print JSON (the HTTP API's shape)")
        common(p)
        p.set_defaults(func=func)

    p = sub.add_parser("serve", help="run the HTTP API (builds the index first if there is none)")
    p.add_argument("--host", help="default 127.0.0.1")
    p.add_argument("--port", type=int, help="default 8000")
    common(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("eval", help="measure retrieval and answer accuracy on a question set")
    p.add_argument("dataset", type=Path, nargs="?", help="JSONL (project format) or SQuAD-format JSON")
    p.add_argument("--retrieval-only", action="store_true", help="measure retrieval only (no reader)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--output", type=Path, help="also write the JSON result to this file")
    p.add_argument("--report", type=Path, help="write a self-contained HTML report with plots and misses")
    p.add_argument("--url", help="evaluate a running deployment (e.g. http://127.0.0.1:8000) instead of in-process")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"), help="compare two saved JSON results")
    common(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("feedback", help="readers' feedback collected by POST /v1/feedback")
    fsub = p.add_subparsers(dest="feedback_command", required=True, metavar="ACTION")
    f = fsub.add_parser("export", help="write the feedback as eval questions (JSONL, the format `qa eval` reads)")
    f.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    f.add_argument("--index-dir", type=Path, help="index whose feedback to export (default: $QA_HOME/index)")
    f.set_defaults(func=cmd_feedback_export)

    p = sub.add_parser("keys", help="API keys: make one, or hash one for QA_API_KEYS / QA_ADMIN_KEYS")
    ksub = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    k = ksub.add_parser("new", help="print a new random key and the sha256 that goes into the settings")
    k.set_defaults(func=cmd_keys)
    k = ksub.add_parser("hash", help="print the sha256 of a key (read from standard input without KEY)")
    k.add_argument("key", nargs="?", help="the key; leave it out to keep it out of the shell history")
    k.set_defaults(func=cmd_keys)

    p = sub.add_parser("train-reader", help="train the extractive reader on SQuAD-format data")
    p.add_argument("--data", type=Path, nargs="+", required=True, help="SQuAD-format files (DRCD, CMRC 2018)")
    p.add_argument("--output", type=Path, default=Path("var/reader"), help="where the reader is written")
    p.add_argument("--epochs", type=float)
    p.add_argument("--lr", type=float)
    p.add_argument("--negative-share", type=float, help="share of answer-less windows kept each epoch")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--checkpoint-minutes", type=float, help="minutes between checkpoints (default 15)")
    p.add_argument("--device", default="auto", help="auto (GPU if present), cpu or cuda")
    p.add_argument("--resume", action="store_true", help="continue from OUTPUT/checkpoint.pt")
    p.add_argument("--bundle-out", type=Path, help="instead of training, write a bundle to train elsewhere")
    p.add_argument("--recipe", type=Path, help="JSON training mix: translations, code-switched and unanswerable "
                   "questions, English SQuAD (qa/train/augment.py)")
    p.add_argument("--init-from", type=Path, help="continue from a trained reader's folder (e.g. data/reader)")
    p.set_defaults(func=cmd_train_reader)

    p = sub.add_parser("average-readers", help="average trained readers' weights into a new reader")
    p.add_argument("readers", type=Path, nargs="+", help="reader folders (reader-*.safetensors + reader.json)")
    p.add_argument("--output", type=Path, required=True, help="where the averaged reader is written")
    p.add_argument("--data", type=Path, nargs="+", help="the training files (DRCD, CMRC 2018): validate the "
                   "average on the same held-out DRCD articles as train-reader")
    p.set_defaults(func=cmd_average_readers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from embeddings.e5_package import PackagedModelError
    from embeddings.onnx_models import OnnxModelError
    from qa.documents.errors import CorpusError
    from qa.language.text import QuestionError
    from qa.reading.confidence import CalibrationError
    from qa.storage.layout import IndexUnusableError

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    # our own progress messages (model build, indexing) show by default; libraries' only with -v
    for name in ("qa", "embeddings"):
        logging.getLogger(name).setLevel(logging.INFO)
    if not args.verbose:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # the per-load "Loading weights" bar
        logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
    try:
        return args.func(args)
    except (UserError, CorpusError, IndexUnusableError, QuestionError, PackagedModelError, OnnxModelError,
            CalibrationError, FileNotFoundError) as exc:
        print(f"qa {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
