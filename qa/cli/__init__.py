"""The `qa` command line: index, documents, search, ask, serve, keys, eval, feedback, train-reader, average-readers,
train-query-map. One module per group of commands; each registers its own subcommands."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from qa import __version__
from qa.cli import answers, documents, serve, tools
from qa.cli.common import UserError

EXAMPLES = """examples:
  qa index                                   index the bundled UN report
  qa index reports/ notes.md --index-dir var/mine    PDFs, Word files, web pages, Markdown, ... into one index
  qa index --add new.pdf --index-dir var/mine        add a document (qa index --remove ID takes one out)
  qa search "2022年人道主義援助籌集了多少資金?" -k 3
  qa ask "How many people did humanitarian aid reach in 2022?" --json
  qa serve --port 8000                       HTTP API, docs at /docs, demo at /
  qa serve --index-dir var/mine              serve your own documents
  qa eval ../shared/data/un-report-dev.jsonl --report report.html
  qa eval --compare before.json after.json   what a change did (save results with --output)
settings come from QA_* environment variables (QA_HOME, QA_TOP_K, QA_THREADS, ...); see README."""


TORCH_TOOLS = ("torch", "transformers", "sentence_transformers")  # the [build]/[train] extras; serving needs none


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa", description="Answer questions about documents with verbatim, cited spans.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and details")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (documents, answers, serve, tools):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from embeddings.e5_weights import PackagedModelError
    from embeddings.onnx_models import OnnxModelError
    from qa.documents.errors import CorpusError
    from qa.language.text import QuestionError
    from qa.reading.confidence import CalibrationError
    from qa.retrieval.query_map import QueryMapError
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
            CalibrationError, QueryMapError, FileNotFoundError) as exc:
        print(f"qa {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in TORCH_TOOLS:
            raise
        print(f"qa {args.command}: error: this needs the torch tools ({exc.name} is not installed); "
              "install a CPU torch, then pip install 'cited-qa[train]' (README, Install)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
