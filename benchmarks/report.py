"""The report of a suite: `<suite>.json` (every figure), `<suite>.md` (the tables) and
`<suite>_dev_curve.png` (dev ents_f against training seconds)."""

import json
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Optional

from benchmarks.measure import SCORES
from benchmarks.stages import STAGES


def write_report(report: Dict[str, Any], output: Path) -> None:
    suite = report["settings"]["suite"]
    (output / f"{suite}.json").write_text(json.dumps(report, indent=2) + "\n")
    (output / f"{suite}.md").write_text(markdown(report))
    plot_dev_curves(report["systems"], output / f"{suite}_dev_curve.png")


def settings_of(args, leave_out: Iterable[str] = ()) -> Dict[str, Any]:
    """A run's command-line settings as JSON values."""
    return {
        key: str(value) if isinstance(value, Path) else value
        for key, value in vars(args).items()
        if key not in leave_out
    }


def write_named(
    report: Dict[str, Any],
    output: Path,
    name: str,
    to_markdown: Callable[[Dict[str, Any]], str],
    plot: Optional[Callable[[Dict[str, Any], Path], None]] = None,
) -> Dict[str, Any]:
    """`name`.json, `name`.md (and `name`.png, with a `plot`) in `output`; the
    markdown printed."""
    (output / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf8")
    (output / f"{name}.md").write_text(to_markdown(report), encoding="utf8")
    if plot is not None:
        plot(report, output / f"{name}.png")
    print(to_markdown(report))
    return report


def markdown(report: Dict[str, Any]) -> str:
    """The results table, with the settings it was measured under."""
    s, systems = report["settings"], report["systems"]
    budget = f"{s['max_seconds']} s" if s["max_seconds"] else "none"
    lines = [
        f"GMB test split: {s['n_docs']['test']} sentences, {s['n_test_words']} tokens, {s['tokenization']}. "
        f"Training budget, the same for every system: stop at the first dev evaluation after "
        f"{budget} of training loop, or at step {s['max_steps']}; dev evaluation every "
        f"{s['eval_frequency']} steps, its time counted in the budget and in train words/s. Inference: `nlp.pipe` over "
        f"the raw test texts, batch size {s['batch_size']}, median of {s['repeats']} runs, systems "
        f"alternated. Machine: {s['machine']['cpus_usable']} CPUs; torch threads per process: "
        f"{s['machine']['torch_threads']}; {bfloat16_support(s['machine'])}."
        f"{' Quick mode: a small slice, not a result.' if s['quick'] else ''}",
        "",
        f"| system | {' | '.join(SCORES)} | train s (steps, stop) "
        "| train words/s | infer words/s | infer words/s, entity scores on / off "
        "| infer words/s, float32 | infer words/s, bfloat16 "
        "| train RSS MiB | train RSS growth 1k→5k steps | infer RSS MiB "
        "| infer RSS growth | size MiB |",
        "| --- |" + " ---: |" * (len(SCORES) + 11),
    ]
    for r in systems.values():
        lines.append(
            f"| {r['description']} | {' | '.join(score(r[key]) for key in SCORES)} "
            f"| {r['train_seconds']:.0f} ({r['train_steps']}, {r['stopped_by']}) "
            f"| {r['train_words_per_second']:,.0f} | {r['infer_words_per_second']:,.0f} "
            f"| {entity_scores(r)} | {by_dtype(r, 'float32')} | {by_dtype(r, 'bfloat16')} "
            f"| {r['train_peak_rss_mb']:.0f} | {percent(r.get('train_rss_growth'))} "
            f"| {r['infer_peak_rss_mb']:.0f} | {percent(r.get('infer_rss_growth'))} | {r['model_size_mb']:.1f} |"
        )
    lines += [
        "",
        (
            f"Train RSS growth: from step 1,000 to step 5,000 (or the last step before). Infer RSS: "
            f"`nlp.pipe` over {s.get('infer_words', 0):,} words (the test texts again and again) in a "
            "process of its own; growth from the first tenth of the words (warm-up) to the end."
        ),
    ]
    profiled = {name: r["infer_stages"] for name, r in systems.items() if r.get("infer_stages")}
    if profiled:
        lines += [
            "",
            (
                "lstm_ner inference time per stage (one pass over the test texts, words/s of each "
                "stage alone, entity scores on; `benchmarks/stages.py`):"
            ),
            "",
            "| stage | " + " | ".join(f"{name} s | {name} words/s" for name in profiled) + " |",
            "| --- |" + " ---: | ---: |" * len(profiled),
        ]
        for stage in STAGES:
            cells = [
                f"{p[stage]['seconds']:.3f} | {p[stage]['words_per_second']:,.0f}"
                for p in profiled.values()
            ]
            lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    per_type = {name: r["ents_per_type"] or {} for name, r in systems.items()}
    labels = sorted({label for scores in per_type.values() for label in scores})
    lines += [
        "",
        "Test ents_f per type:",
        "",
        "| type | " + " | ".join(systems) + " |",
        "| --- |" + " ---: |" * len(systems),
    ]
    for label in labels:
        cells = [scores.get(label, {}).get("f", 0.0) for scores in per_type.values()]
        lines.append(f"| {label} | " + " | ".join(score(f) for f in cells) + " |")
    return "\n".join(lines) + "\n"


def entity_scores(result: Dict[str, Any]) -> str:
    """lstm_ner's words/s with score_ents = true and false, and what the scores cost."""
    timed = result.get("infer_words_per_second_by_scores") or {}
    if len(timed) < 2:
        return "n/a"
    on, off = timed["scores on"], timed["scores off"]
    return f"{on:,.0f} / {off:,.0f} (scores cost {1 - on / off:.1%})"


def by_dtype(result: Dict[str, Any], dtype: str) -> str:
    """lstm_ner's words/s with `inference_dtype = dtype`; "n/a" where not timed."""
    value = (result.get("infer_words_per_second_by_dtype") or {}).get(dtype)
    return "n/a" if value is None else f"{value:,.0f}"


def bfloat16_support(machine: Dict[str, Any]) -> str:
    """Which inference paths the CPU has, as the report states it."""
    if machine.get("bfloat16_native"):
        return (
            'the CPU runs bfloat16 natively, so `inference_dtype = "auto"` (infer words/s) '
            "is the bfloat16 path; CPUs without it (AVX2 only) run the float32 column"
        )
    return (
        'the CPU has no native bfloat16, so `inference_dtype = "auto"` (infer words/s) '
        "is the float32 path"
    )


def score(value: Optional[float]) -> str:
    """A score to three decimals; "n/a" where the scorer reported none."""
    return "n/a" if value is None else f"{value:.3f}"


def percent(value: Optional[float]) -> str:
    """A relative change as a signed percentage; "n/a" where there is none."""
    return "n/a" if value is None else f"{value * 100:+.1f}%"


def plot_dev_curves(systems: Dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, r in systems.items():
        curve = r["dev_curve"]
        ax.plot([e["seconds"] for e in curve], [e["ents_f"] for e in curve], marker=".", label=name)
    ax.set_xlabel("training wall-clock (s)")
    ax.set_ylabel("dev ents_f")
    ax.set_title("GMB dev ents_f during training")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
