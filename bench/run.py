"""`make bench`: accuracy, latency and build-time figures, printed and written to bench/results/.

Figures (all on this machine, one question at a time, after warm-up):
- index build time for the bundled report;
- the report's dev set end to end: Recall@k and MRR@10 (answerable questions, per script),
  F1/EM, no-answer handling, citation accuracy, /v1/ask latency through the HTTP app;
- per runtime (torch, ONNX fp32/int8, 1 or 2 threads) as a real server: accuracy, latency per stage,
  tokens read, RSS and 20 concurrent clients (bench/speed.py);
- DRCD dev as a 1,000-paragraph corpus: retrieval Recall@k over all its questions, and answers end to
  end (F1, citation, latency) for the reader's held-out articles (bench/drcd_heldout.py);
- the reader on its DRCD validation split with the gold paragraph given: EM/F1, its questions also in Simplified
  and half B in English (`python -m bench.run --reader-only`: this part alone, for the reader of QA_READER_DIR).
The shared data sets live in ../shared (a developer checkout has it; users don't need it).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

from bench.paths import RESULTS, ROOT, SHARED


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))], 1)


def bench_index_build(settings, out: dict) -> None:
    from embeddings.encoder import Embedder
    from qa.storage.collection import build_index

    embedder = Embedder.from_settings(settings).load()  # loaded first: the figure is the build alone
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        manifest = build_index(settings.model_copy(update={"index_dir": Path(tmp) / "ix"}), embedder).manifest
        out["index_build"] = {
            "seconds": round(time.perf_counter() - t, 1),
            "passages": manifest["passages"],
            "vectors": manifest["vectors"],
        }


def bench_reader_validation(settings, out: dict) -> None:
    """The reader alone with the gold paragraph: its DRCD validation split as it is, its questions in Simplified
    script (the paragraph as it is, then both in Simplified), and half B of it asked in English (bridged to the
    paragraph as the pipeline bridges an English question)."""
    from bench.drcd_heldout import ENGLISH_B
    from qa.language.bridge import bridged
    from qa.language.script import to_script
    from qa.reading.reader import Reader
    from qa.train.augment import read_translations
    from qa.train.data import TrainConfig, split_questions

    mrc = SHARED / "mrc"
    files = [mrc / "DRCD_dev.json", mrc / "cmrc2018_dev.json", mrc / "cmrc2018_trial.json"]
    cfg = TrainConfig()
    _, val = split_questions(files, cfg.val_fraction, cfg.seed)
    reader = Reader.from_settings(settings).load()
    out["reader_drcd_validation"] = gold_paragraph_scores(reader, [(q, q.question) for q in val])
    out["reader_drcd_validation_simplified"] = gold_paragraph_scores(
        reader, [(q, to_script(q.question, "simplified")) for q in val])
    out["reader_drcd_validation_all_simplified"] = gold_paragraph_scores(reader, [in_simplified(q) for q in val])
    english = read_translations(ENGLISH_B)
    asked = [(q, bridged(english[q.id], q.paragraph.context)) for q in val if q.id in english]
    out["reader_drcd_validation_en"] = gold_paragraph_scores(reader, asked)


def in_simplified(q):
    """(the question with its paragraph and answers in Simplified script, its text): a Simplified document's case.
    OpenCC's t2s maps character for character, so the answers stay where they were."""
    from dataclasses import replace

    from qa.language.script import to_script

    def simp(text: str) -> str:
        return to_script(text, "simplified")

    paragraph = replace(q.paragraph, context=simp(q.paragraph.context))
    return replace(q, paragraph=paragraph, answers=tuple(simp(a) for a in q.answers)), simp(q.question)


def gold_paragraph_scores(reader, asked: list) -> dict:
    """EM/F1 of the reader's best span for each (question, text asked) with the question's own paragraph."""
    from qa.eval.metrics import exact_match, f1_score

    em = f1 = 0.0
    for q, text in asked:
        spans = reader.read(text, [q.paragraph.context])
        pred = ""
        if spans:
            best = max(spans, key=lambda s: s.score)
            pred = q.paragraph.context[best.start : best.end]
        em += exact_match(pred, q.answers)
        f1 += f1_score(pred, q.answers)
    n = max(1, len(asked))
    return {"questions": len(asked), "em": round(100 * em / n, 2), "f1": round(100 * f1 / n, 2)}


def bench_drcd_answers(drcd, drcd_path: Path) -> dict:
    """End to end over DRCD dev as the corpus, on the questions of the articles the reader never trained on,
    in Chinese (all of them) and in English (half B, hand-translated)."""
    from bench.drcd_heldout import write_held_out
    from qa.eval import evaluate, load_dataset

    with tempfile.TemporaryDirectory() as tmp:
        files = {path.name: load_dataset(path) for path, _, _ in write_held_out(drcd_path, Path(tmp))}
    scores = {}
    for name, key in (("drcd-heldout.json", "drcd_answers"), ("drcd-heldout-B-en.json", "drcd_answers_en")):
        m = evaluate(drcd, files[name])["metrics"]
        scores[key] = {k: m[k] for k in ("f1", "em", "citation_accuracy", "latency_ms")} | {"n": len(files[name])}
    return scores


def bench_drcd_without_gold(settings, drcd_path: Path) -> dict:
    """The held-out questions over DRCD dev with their own paragraphs removed: how many get `no_answer`
    (the same article's other paragraphs are the closest; nothing was tuned on these)."""
    from bench.drcd_heldout import write_without_gold
    from qa.eval import evaluate, load_dataset, squad_pipeline

    scores = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpus, files = write_without_gold(drcd_path, Path(tmp))
        pipeline = squad_pipeline(corpus, settings, index_dir=ROOT / "var" / "bench" / "drcd-without-gold-index",
                                  progress=True)
        for path, key in zip(files, ("drcd_without_gold", "drcd_without_gold_en")):
            m = evaluate(pipeline, load_dataset(path))["metrics"]
            scores[key] = {"n": m["no_ans"]["n"], "withheld": m["no_ans"]["em"]}
    return scores


def bench_dev2(pipeline, path: Path) -> dict:
    """The 180-question tuning set (60 English, 40 Simplified, 20 Traditional answerable; 60 unanswerable)."""
    from qa.eval import evaluate, load_dataset

    result = evaluate(pipeline, load_dataset(path))
    m = result["metrics"]
    keys = ("f1", "em", "has_ans", "no_ans", "no_answer_accuracy", "answerable_withheld", "citation_accuracy")
    return {k: m[k] for k in keys} | {
        "f1_by_script": {script: round(row["f1"], 1) for script, row in result["by_script"].items()}
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev", type=Path, default=ROOT / "data" / "eval" / "un-report-dev.jsonl")
    parser.add_argument("--dev2", type=Path, default=ROOT / "data" / "eval" / "un-report-dev2.jsonl")
    parser.add_argument("--drcd", type=Path, default=SHARED / "mrc" / "DRCD_dev.json")
    parser.add_argument("--skip", nargs="*", default=[], choices=["build", "speed", "drcd", "reader"],
                        help="parts to skip")
    parser.add_argument("--reader-only", action="store_true",
                        help="only the reader of QA_READER_DIR on its DRCD validation split with the gold paragraph "
                             "(Chinese, Simplified, half B in English; ~10 min on 2 cores), printed, not saved")
    args = parser.parse_args(argv)
    for path in (args.dev, args.drcd):
        if not path.is_file():
            print(f"bench: {path} not found (the shared data sets sit beside the checkout)", file=sys.stderr)
            return 2
    if args.reader_only:
        from qa.config import Settings

        settings = Settings()
        out = {"reader": str(settings.reader_dir)}
        try:
            bench_reader_validation(settings, out)
        except FileNotFoundError as exc:  # no reader in QA_READER_DIR: say so, no traceback
            print(f"bench: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(out, ensure_ascii=False))
        print_reader_validation(out)
        return 0

    from qa.config import Settings
    from qa.eval import evaluate, load_dataset, squad_pipeline
    from qa.pipeline import Pipeline
    from qa.storage.collection import ensure_index

    settings = Settings()
    out: dict = {
        "machine": {
            "cpus": __import__("os").cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "threads_setting": settings.threads,
        },
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if "build" not in args.skip:
        print("timing the index build …", file=sys.stderr)
        bench_index_build(settings, out)
    ensure_index(settings)
    pipeline = Pipeline(settings).load()
    dev = load_dataset(args.dev)
    print("evaluating the dev set end to end …", file=sys.stderr)
    result = evaluate(pipeline, dev)
    m = result["metrics"]
    out["dev"] = {
        k: m[k]
        for k in (
            "f1",
            "em",
            "has_ans",
            "no_ans",
            "no_answer_accuracy",
            "citation_accuracy",
            "best_threshold",
            "retrieval",
            "latency_ms",
        )
    }
    out["dev"]["by_script"] = result["by_script"]
    if args.dev2.is_file():
        print("evaluating the second dev set (tuning set of the no-answer thresholds) …", file=sys.stderr)
        out["dev2"] = bench_dev2(pipeline, args.dev2)
    if "speed" not in args.skip:
        from bench.speed import bench_speed

        bench_speed(args.dev, out)
    if "drcd" not in args.skip:
        print("DRCD dev as a 1,000-paragraph corpus (the index is cached in var/bench) …", file=sys.stderr)
        drcd = squad_pipeline(
            args.drcd, settings, index_dir=ROOT / "var" / "bench" / "drcd-index", progress=True
        )
        r = evaluate(drcd, load_dataset(args.drcd), retrieval_only=True)
        out["drcd_retrieval"] = {**r["metrics"]["retrieval"], "latency_ms": r["metrics"]["latency_ms"]}
        print("DRCD answers for the reader's held-out articles …", file=sys.stderr)
        out.update(bench_drcd_answers(drcd, args.drcd))
        print("DRCD without the held-out questions' paragraphs (no_answer; index cached in var/bench) …",
              file=sys.stderr)
        out.update(bench_drcd_without_gold(settings, args.drcd))
    if "reader" not in args.skip:
        print("reader on the DRCD validation split …", file=sys.stderr)
        bench_reader_validation(settings, out)

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    text = json.dumps(out, indent=2, ensure_ascii=False)
    (RESULTS / f"bench-{stamp}.json").write_text(text, encoding="utf-8")
    (RESULTS / "latest.json").write_text(text, encoding="utf-8")
    print_summary(out)
    print(f"\nwritten to {RESULTS / 'latest.json'}")
    return 0


def print_summary(out: dict) -> None:
    dev = out["dev"]
    r = dev["retrieval"]
    print(f"\nmachine: {out['machine']['cpus']} CPUs, {out['machine']['platform']}")
    if "index_build" in out:
        b = out["index_build"]
        print(f"index build (bundled report): {b['seconds']} s for {b['passages']} passages, {b['vectors']} vectors")
    print(
        f"dev retrieval (n={r['n']}): R@1 {r['recall@1']:.3f}  R@3 {r['recall@3']:.3f}  R@5 {r['recall@5']:.3f}  "
        f"R@10 {r['recall@10']:.3f}  MRR@10 {r['mrr@10']:.3f}"
    )
    for script, row in dev["by_script"].items():
        rr = row.get("retrieval", {})
        print(
            f"   {script:12s} n={row.get('n')}  R@1 {rr.get('recall@1')}  R@5 {rr.get('recall@5')}  F1 {row.get('f1')}"
        )
    print(
        f"dev answers: F1 {dev['f1']:.1f}  EM {dev['em']:.1f}  HasAns F1 {dev['has_ans']['f1']:.1f}  "
        f"NoAns {dev['no_ans']['f1']:.1f} ({dev['no_ans']['n']} q)  citation {dev['citation_accuracy']:.1f}%"
    )
    bt = dev["best_threshold"]
    print(f"   best threshold {bt['threshold']} -> F1 {bt['f1']:.1f}")
    if "dev2" in out:
        d2 = out["dev2"]
        scripts = "  ".join(f"{k} {v}" for k, v in d2["f1_by_script"].items())
        print(f"dev2 answers (n=180): F1 {d2['f1']:.1f}  EM {d2['em']:.1f}  HasAns F1 {d2['has_ans']['f1']:.1f}  "
              f"unanswerable withheld {d2['no_ans']['em']:.1f}%  answerable withheld "
              f"{d2['answerable_withheld']:.1f}%  citation {d2['citation_accuracy']:.1f}%")
        print(f"   F1 by script: {scripts}")
    from bench.speed import print_speed

    print_speed(out)
    if "drcd_retrieval" in out:
        d = out["drcd_retrieval"]
        print(
            f"DRCD retrieval (n={d['n']}): R@1 {d['recall@1']:.3f}  R@5 {d['recall@5']:.3f}  R@10 {d['recall@10']:.3f}"
            f"  MRR@10 {d['mrr@10']:.3f}"
        )
    if "drcd_answers" in out:
        a = out["drcd_answers"]
        print(
            f"DRCD answers, held-out articles (n={a['n']}): F1 {a['f1']:.1f}  EM {a['em']:.1f}  citation "
            f"{a['citation_accuracy']:.1f}%  ask p50/p95 {a['latency_ms']['p50']:.0f}/{a['latency_ms']['p95']:.0f} ms"
        )
    if "drcd_answers_en" in out:
        a = out["drcd_answers_en"]
        print(f"DRCD answers, held-out half B asked in English (n={a['n']}): F1 {a['f1']:.1f}  EM {a['em']:.1f}  "
              f"citation {a['citation_accuracy']:.1f}%")
    for key, label in (("drcd_without_gold", "in Chinese"), ("drcd_without_gold_en", "half B in English")):
        if key in out:
            print(f"DRCD held-out questions, their paragraphs removed, {label} (n={out[key]['n']}): "
                  f"{out[key]['withheld']:.1f}% withheld")
    print_reader_validation(out)


def print_reader_validation(out: dict) -> None:
    for key, label in (("reader_drcd_validation", "DRCD validation split"),
                       ("reader_drcd_validation_simplified", "its questions in Simplified"),
                       ("reader_drcd_validation_all_simplified", "its questions and paragraphs in Simplified"),
                       ("reader_drcd_validation_en", "its half B asked in English")):
        if key in out:
            v = out[key]
            print(f"reader, {label} (gold paragraph, n={v['questions']}): EM {v['em']}  F1 {v['f1']}")


if __name__ == "__main__":
    sys.exit(main())
