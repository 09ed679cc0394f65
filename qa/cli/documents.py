"""`qa index` (files and folders into an index; adding and removing documents) and `qa documents` (what an index
holds)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from qa.cli.common import UserError, index_options, settings_of


def register(sub) -> None:
    p = sub.add_parser("index", help="read documents (PDF, Word, web pages, Markdown, text, ...), embed them, write "
                       "the index", description="Index files and folders (recursively) into one index: PDF, Word "
                       ".docx, HTML, Markdown, plain text, JSON lines and SQuAD JSON, each chosen by content. With no "
                       "path, the configured document (the bundled UN report, or QA_CORPUS / --corpus). A file that "
                       "can't be read is listed with the reason, the others are indexed (exit status 1).")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files and folders to index")
    index_options(p)
    p.add_argument(
        "--kind", choices=["flat", "hnsw"], help="flat: exact (default); hnsw: approximate, for large corpora"
    )
    p.add_argument("--if-needed", action="store_true", help="do nothing when the index is present and up to date")
    p.add_argument("--add", type=Path, nargs="+", metavar="PATH",
                   help="add files or folders to the index, embedding only them (the same content twice is skipped)")
    p.add_argument("--remove", nargs="+", metavar="ID", help="remove documents by id (`qa documents` lists them)")
    p.set_defaults(func=cmd_index)


    p = sub.add_parser("documents", help="list the documents an index holds (id, title, file, pages, passages)")
    index_options(p, corpus=False)
    p.add_argument("--json", action="store_true", help="print JSON (GET /v1/documents' shape)")
    p.set_defaults(func=cmd_documents)


def cmd_index(args) -> int:
    from qa.storage.collection import add_documents, build_index, remove_documents
    from qa.storage.layout import index_exists
    from qa.storage.lifecycle import index_location, index_problem

    s = settings_of(args)
    where = index_location(s)
    if args.paths and args.corpus:
        raise UserError("give files and folders to index, or --corpus FILE, not both")
    if args.add or args.remove:
        if args.paths or args.if_needed:
            raise UserError("--add and --remove change the index as it is; they take no other paths or --if-needed")
        if args.remove:
            report = remove_documents(s, args.remove)
            print(f"removed {', '.join(d.id for d in report.removed)} from {where}")
            return 0
        report = add_documents(s, args.add, progress=sys.stderr.isatty())
        return _index_summary(report, f"added {len(report.added)} documents to {where}")
    if args.if_needed:
        if args.paths:
            raise UserError("--if-needed checks the configured document (QA_CORPUS or --corpus), not paths")
        problem = index_problem(s, corpus=s.corpus)
        if problem is None:
            print(f"index in {where} is up to date")
            return 0
        if s.vector_store == "faiss" and not index_exists(s.resolved_index_dir):
            print(f"no index yet in {where}: building it", file=sys.stderr)
        else:
            print(f"rebuilding the index: {problem}", file=sys.stderr)
    report = build_index(s, progress=sys.stderr.isatty(), paths=args.paths or None)
    what = f"{s.corpus}" if not args.paths else f"{len(report.added)} documents"
    return _index_summary(report, f"indexed {report.manifest['passages']} passages of {what} into {where} "
                                  f"({report.manifest['index_kind']})")


def _index_summary(report, headline: str) -> int:
    """Print what indexing did; exit status 1 when a file could not be read (the others were indexed)."""
    print(headline)
    for file, existing in report.duplicates:
        print(f"  {file}: the same content is indexed already, as {existing}", file=sys.stderr)
    for file, why in report.failures:
        print(f"  skipped {file}: {why}", file=sys.stderr)
    if report.failures:
        print(f"{len(report.failures)} file(s) could not be read (listed above); the others were indexed",
              file=sys.stderr)
        return 1
    return 0


def cmd_documents(args) -> int:
    from qa.storage.lifecycle import open_index

    documents = open_index(settings_of(args)).documents()
    if args.json:
        print(json.dumps({"documents": [d.to_dict() for d in documents]}, ensure_ascii=False, indent=2))
        return 0
    for d in documents:
        pages = f"{d.pages} pages, " if d.pages else ""
        print(f"{d.id}\t{d.file}\t{pages}{d.passages} passages\t{d.title}")
    return 0
