"""Measuring the service on a question set (`qa eval`): the metrics of docs/EVAL.md, in-process or
over HTTP. A tool: the serving library never imports it.

One module per job:
- `questions`: question sets (project JSON lines, SQuAD-format JSON) and gold passage references;
- `backends`: the systems under test (the pipeline in-process, a deployment over HTTP) and the
  pipelines `qa eval` builds;
- `metrics`: EM/F1 as CMRC 2018 defines them;
- `calibration`: the no-answer threshold (summary at a threshold, the best one, the sweep);
- `score`: `evaluate()`, per-question records, Recall@k/MRR, miss reasons, the summary;
- `compare`: two results told apart, with a paired bootstrap;
- `format`, `plots`, `report`: the console tables and the HTML report;
- `command`: the `qa eval` command.

The names below are importable from `qa.eval` itself; each loads its module on first use, so
`qa.eval.metrics` (which the training code uses) stays as light as it is.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

_EXPORTS = {
    "EvalError": "questions",
    "EvalQuestion": "questions",
    "PassageRef": "questions",
    "dataset_format": "questions",
    "dataset_info": "questions",
    "load_dataset": "questions",
    "Backend": "backends",
    "HttpBackend": "backends",
    "PipelineBackend": "backends",
    "Response": "backends",
    "configured_pipeline": "backends",
    "squad_pipeline": "backends",
    "exact_match": "metrics",
    "f1_score": "metrics",
    "best_threshold": "calibration",
    "threshold_summary": "calibration",
    "evaluate": "score",
    "summarise": "score",
    "compare": "compare",
    "paired_bootstrap": "compare",
    "format_comparison": "format",
    "format_summary": "format",
    "render_report": "report",
    "write_report": "report",
    "run_eval_command": "command",
}
__all__ = [  # the keys of _EXPORTS
    "Backend", "EvalError", "EvalQuestion", "HttpBackend", "PassageRef", "PipelineBackend", "Response",
    "best_threshold", "compare", "configured_pipeline", "dataset_format", "dataset_info", "evaluate",
    "exact_match", "f1_score", "format_comparison", "format_summary", "load_dataset", "paired_bootstrap",
    "render_report", "run_eval_command", "squad_pipeline", "summarise", "threshold_summary", "write_report",
]

if TYPE_CHECKING:
    from qa.eval.backends import (
        Backend,
        HttpBackend,
        PipelineBackend,
        Response,
        configured_pipeline,
        squad_pipeline,
    )
    from qa.eval.calibration import best_threshold, threshold_summary
    from qa.eval.command import run_eval_command
    from qa.eval.compare import compare, paired_bootstrap
    from qa.eval.format import format_comparison, format_summary
    from qa.eval.metrics import exact_match, f1_score
    from qa.eval.questions import EvalError, EvalQuestion, PassageRef, dataset_format, dataset_info, load_dataset
    from qa.eval.report import render_report, write_report
    from qa.eval.score import evaluate, summarise


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
