"""`qa search`, `qa ask` and `qa chat`: a question (or a conversation) in, passages or cited answers out."""

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
    p = sub.add_parser("chat", help="a conversation in the terminal: follow-up questions know what came before",
                       description="Ask one question after another; a follow-up (\"那2021年呢?\", \"What about "
                       "Afghanistan?\", \"它是哪一年成立的?\") is answered with the conversation before it. Lines "
                       "come from standard input when it is not a terminal (one question a line). /clear starts over, "
                       "/quit (or Ctrl-D) ends.")
    p.add_argument("-k", type=int, default=None, help="passages to retrieve (default 5)")
    p.add_argument("--json", action="store_true", help="print each answer as one line of JSON (the HTTP API's shape)")
    p.add_argument("--document", "-d", action="append", metavar="ID", dest="documents",
                   help="ask only this document (repeat for several)")
    index_options(p)
    p.set_defaults(func=cmd_chat)


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
    from qa.present import ask_response

    pipeline = pipeline_of(args)
    result = pipeline.ask(args.question, args.k, documents=args.documents)
    if args.json:
        print(json.dumps(ask_response(result), ensure_ascii=False, indent=2))
        return 0
    _print_answer(result)
    print(f"({result.timings_ms['total']:.0f} ms)", file=sys.stderr)
    return 0


def cmd_chat(args) -> int:
    """One question a line, each with the conversation before it; a bad question is said and the chat goes on."""
    from qa.language.text import QuestionError
    from qa.present import ask_response, reply_line
    from qa.types import Turn

    pipeline = pipeline_of(args)
    interactive = sys.stdin.isatty()
    if interactive:
        import readline  # noqa: F401  (line editing and history for input())

        print("Ask about the document; follow-ups know the conversation. /clear starts over, /quit ends.",
              file=sys.stderr)
    history: list[Turn] = []
    while True:
        try:
            line = input("› " if interactive else "")
        except EOFError:
            return 0
        question = line.strip()
        if question in ("/quit", "/exit"):
            return 0
        if question == "/clear":
            history = []
            print("(a new conversation)", file=sys.stderr)
            continue
        if not question:
            continue
        try:
            result = pipeline.ask(question, args.k, documents=args.documents,
                                  history=history[-pipeline.settings.max_history_turns:])
        except QuestionError as exc:
            print(f"qa chat: {exc}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(ask_response(result), ensure_ascii=False), flush=True)
        else:
            if result.resolved_question and result.resolved_question != result.question:
                print(f"  (understood as: {result.resolved_question})")
            _print_answer(result)
        history += [Turn("user", result.question), Turn("assistant", reply_line(result))]


def _print_answer(result) -> None:
    from qa.present import citation, language_of, no_answer_message

    language = language_of(result.question)
    if result.no_answer:
        print(no_answer_message(result))
        for hit in result.hits[:3]:
            print(f"  [{citation(hit.passage, language, result.cite_files)}] {hit.passage.text[:120]}…", flush=True)
        return
    for answer in result.answers:
        where = citation(answer.passage, language, result.cite_files, answer.passage.page_at(answer.start))
        print(f"{answer.text}   ({where}, score {answer.score:.2f})")
        print(f"   …{answer.context}…", flush=True)
