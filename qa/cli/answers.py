"""`qa search` and `qa ask`: a question in, passages or cited answers out."""

from __future__ import annotations

import json
import sys

from qa.cli.common import index_options, pipeline_of


def register(sub) -> None:
    for name, func, helptext in (("search", cmd_search, "show the passages that best match a question"),
                                 ("ask", cmd_ask, "answer a question with a cited span of the document")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("question")
        p.add_argument("-k", type=int, default=None, help="passages to retrieve (default 5)")
        p.add_argument("--json", action="store_true", help="print JSON (the HTTP API's shape)")
        p.add_argument("--document", "-d", action="append", metavar="ID", dest="documents",
                       help="ask only this document (repeat for several; `qa documents` lists the ids)")
        index_options(p)
        p.set_defaults(func=func)


def cmd_search(args) -> int:
    from qa.present import citation, language_of, search_response

    pipeline = pipeline_of(args)
    hits = pipeline.search(args.question, args.k, args.documents)
    if args.json:
        print(json.dumps(search_response(args.question, hits, with_file=pipeline.cites_files), ensure_ascii=False,
                         indent=2))
        return 0
    language = language_of(args.question)
    for rank, hit in enumerate(hits, 1):
        text = hit.passage.text if len(hit.passage.text) <= 160 else hit.passage.text[:160] + "…"
        print(f"{rank}. [{citation(hit.passage, language, pipeline.cites_files)}] score {hit.score:.2f}\n   {text}")
    return 0


def cmd_ask(args) -> int:
    from qa.present import ask_response, citation, language_of, no_answer_message

    pipeline = pipeline_of(args)
    result = pipeline.ask(args.question, args.k, documents=args.documents)
    if args.json:
        print(json.dumps(ask_response(result), ensure_ascii=False, indent=2))
        return 0
    language = language_of(result.question)
    if result.no_answer:
        print(no_answer_message(result))
        for hit in result.hits[:3]:
            print(f"  [{citation(hit.passage, language, result.cite_files)}] {hit.passage.text[:120]}…")
        return 0
    for answer in result.answers:
        where = citation(answer.passage, language, result.cite_files, answer.passage.page_at(answer.start))
        print(f"{answer.text}   ({where}, score {answer.score:.2f})")
        print(f"   …{answer.context}…")
    print(f"({result.timings_ms['total']:.0f} ms)", file=sys.stderr)
    return 0
