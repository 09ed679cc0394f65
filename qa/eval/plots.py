"""The plots of the `qa eval --report` page, as embeddable SVG: F1 by type and script, Recall@k,
latency, the no-answer threshold trade-off and coverage against accuracy. Pyplot-free, so safe in any thread."""

from __future__ import annotations

import base64
import io

from qa.eval.score import RECALL_KS

_BLUE, _ORANGE, _GREEN, _GREY, _RED = "#1f6fb4", "#e08a1e", "#2e9a4a", "#8a8a8a", "#c0392b"
_CJK_FONTS = ["Noto Sans CJK TC", "Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Micro Hei", "Microsoft JhengHei",
              "PingFang TC", "Heiti TC"]


def _figure(width: float, height: float):
    """A pyplot-free Figure (no global state, safe in a server thread) whose text can show CJK."""
    import matplotlib
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    available = {f.name for f in font_manager.fontManager.ttflist}
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", *[f for f in _CJK_FONTS if f in available]]
    matplotlib.rcParams["svg.fonttype"] = "path"  # glyphs as outlines: the page needs no fonts
    matplotlib.rcParams["svg.hashsalt"] = "qa-eval"  # stable ids: the same result gives the same page
    return Figure(figsize=(width, height), layout="constrained")


def _embed(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="" src="data:image/svg+xml;base64,{data}">'


def plot_breakdowns(result: dict) -> str | None:
    """F1 (and EM) by question type and by script, with how many questions each bar stands on."""
    groups = [(g, result.get(g) or {}) for g in ("by_type", "by_script")]
    groups = [(g, t) for g, t in groups if t]
    if not groups or result["retrieval_only"]:
        return None
    fig = _figure(10, 3.6)
    axes = fig.subplots(1, len(groups), squeeze=False)[0]
    for ax, (group, table) in zip(axes, groups, strict=True):
        names = list(table)
        f1 = [table[n]["f1"] for n in names]
        em = [table[n]["em"] for n in names]
        ys = range(len(names))
        ax.barh([y + 0.2 for y in ys], f1, height=0.4, color=_BLUE, label="F1")
        ax.barh([y - 0.2 for y in ys], em, height=0.4, color=_ORANGE, label="EM")
        for y, n in zip(ys, names, strict=True):
            ax.text(101, y, f"n={table[n]['n']}", va="center", fontsize=8, color=_GREY)
        ax.set_yticks(list(ys), names)
        ax.invert_yaxis()
        ax.set_xlim(0, 112)
        ax.set_xlabel("percent")
        ax.set_title(f"by {group[3:]}")
        ax.grid(axis="x", alpha=0.3)
    axes[0].legend(loc="lower right", fontsize=8)
    return _embed(fig)


def plot_recall(result: dict) -> str | None:
    curve = result.get("recall_curve") or []
    if not curve or curve[0] is None:
        return None
    fig = _figure(5, 3.4)
    ax = fig.subplots()
    ks = list(range(1, len(curve) + 1))
    ax.plot(ks, curve, marker="o", color=_BLUE)
    read_k = result["system"].get("read_k")
    if read_k and read_k <= len(curve):
        ax.axvline(read_k, color=_GREY, ls="--", lw=1)
        ax.text(read_k + 0.1, min(curve) if min(curve) < 0.9 else 0.5, f" reader reads top {read_k}",
                fontsize=8, color=_GREY)
    for k in RECALL_KS:
        if k <= len(curve):
            ax.annotate(f"{curve[k - 1]:.3f}", (k, curve[k - 1]), textcoords="offset points", xytext=(0, 7),
                        ha="center", fontsize=8)
    ax.set_xticks(ks)
    ax.set_ylim(min(0.5, min(curve) - 0.05), 1.04)
    ax.set_xlabel("k (passages retrieved)")
    ax.set_ylabel("Recall@k")
    ax.set_title(f"gold passage in the top k (n={result['metrics']['retrieval']['n']})")
    ax.grid(alpha=0.3)
    return _embed(fig)


def plot_latency(result: dict) -> str | None:
    values = [q["latency_ms"] for q in result["questions"] if q.get("latency_ms") is not None]
    if not values:
        return None
    lat = result["metrics"]["latency_ms"]
    fig = _figure(5, 3.4)
    ax = fig.subplots()
    ax.hist(values, bins=min(40, max(8, len(values) // 4)), color=_BLUE, alpha=0.85)
    for name, color in (("p50", _GREEN), ("p95", _RED)):
        ax.axvline(lat[name], color=color, ls="--", lw=1.2, label=f"{name} {lat[name]:.0f} ms")
    ax.set_xlabel("milliseconds per question")
    ax.set_ylabel("questions")
    ax.set_title("latency, one question at a time")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _embed(fig)


def plot_threshold(result: dict) -> str | None:
    sweep = result.get("threshold_sweep") or []
    if not sweep:
        return None
    fig = _figure(10, 3.6)
    ax = fig.subplots()
    ts = [row["threshold"] for row in sweep]
    series = [("f1", "F1 (all)", _BLUE, "-"), ("has_ans_f1", "F1 answerable", _ORANGE, "-"),
              ("no_ans_f1", "unanswerable handled", _GREEN, "-"), ("answered", "% answered", _GREY, ":")]
    for key, label, color, ls in series:
        ys = [row[key] for row in sweep]
        if any(y is not None for y in ys):
            ax.plot(ts, [y if y is not None else float("nan") for y in ys], color=color, ls=ls, label=label)
    configured = result["system"]["no_answer_threshold"]
    best = result["metrics"]["best_threshold"]
    ax.axvline(configured, color="black", lw=1, ls="--", label=f"configured {configured:g}")
    ax.axvline(best["threshold"], color=_RED, lw=1, ls="--",
               label=f"best {best['threshold']:.3g} (F1 {best['f1']:.1f})")
    ax.set_xscale("symlog", linthresh=0.01)
    _percent_axes(ax, (0, 1), "no-answer threshold on the top answer's score (log scale below 0.01)", "percent",
                  "answering vs abstaining: withhold answers scoring below the threshold")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _embed(fig)


def plot_coverage(result: dict) -> str | None:
    """Coverage against accuracy: as the threshold rises, fewer questions get an answer and more of
    those answers are exactly right."""
    sweep = [row for row in result.get("threshold_sweep") or [] if row.get("answered_accuracy") is not None]
    if not sweep:
        return None
    fig = _figure(6.5, 3.6)
    ax = fig.subplots()
    ax.plot([row["answered"] for row in sweep], [row["answered_accuracy"] for row in sweep], color=_BLUE,
            marker=".", label="thresholds 0 … 1")
    m = result["metrics"]
    if m.get("answered_accuracy") is not None:
        ax.plot([m["answered"]], [m["answered_accuracy"]], "o", color=_RED, label="as configured")
    _percent_axes(ax, (0, 102), "coverage: % of questions answered", "% of shown answers exactly right",
                  "coverage vs accuracy")
    ax.legend(fontsize=8)
    return _embed(fig)


def _percent_axes(ax, xlim: tuple[float, float], xlabel: str, ylabel: str, title: str) -> None:
    """Labels, title and grid of a plot whose y axis is a percentage."""
    ax.set_xlim(*xlim)
    ax.set_ylim(0, 102)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
