"""The benchmark's spaCy plugins, loaded into each training process by
`python -m spacy train CONFIG --code benchmarks/plugins.py`.

- `spacy_lstm_ner_benchmark.JSONLLogger.v1` logs each dev evaluation as a JSON line and,
  when the process exits, how training stopped, the process's peak memory and its RSS
  every `rss_every` steps.
- `spacy_lstm_ner_benchmark.time_budget.v1` stops training once the time budget is spent.
"""

import atexit
import json
import resource
import time
from pathlib import Path
from typing import Any, Dict, Optional

from spacy.util import registry

LOGGER = "spacy_lstm_ner_benchmark.JSONLLogger.v1"
TIME_BUDGET = "spacy_lstm_ner_benchmark.time_budget.v1"

# The training loop's clock, set by the logger at each dev evaluation and read by
# the time budget before each update; and how training stopped.
_RUN: Dict[str, Any] = {"start": None, "last_eval": None, "stopped_by": "steps", "rss": []}


class BudgetSpent(SystemExit):
    """Raised before an update once the time budget is spent: a clean stop. Not an
    `Exception`, so spaCy's training loop passes it on without reporting a failure;
    its `finally` still saves model-last, and the process exits with status 0."""


@registry.loggers(LOGGER)
def jsonl_logger(path: str, summary: str, rss_every: int = 100):
    """Log each dev evaluation as a JSON line to `path`: step, epoch, wall-clock
    seconds since the training loop started, words, ents_f, losses, RSS. When the
    process exits, write how training stopped ("steps" or "time"), the process's peak
    RSS and its RSS every `rss_every` steps to `summary` as JSON."""

    def setup(nlp, stdout, stderr):
        _RUN.update(start=time.perf_counter(), last_eval=None, stopped_by="steps", rss=[])
        atexit.register(write_summary, Path(summary))
        log = open(path, "w", encoding="utf8")
        steps = iter(range(10**12))

        def log_step(info: Optional[Dict[str, Any]]) -> None:
            # spaCy calls the logger after every update: with info at a dev evaluation, else None.
            step = next(steps)
            if step % rss_every == 0:
                _RUN["rss"].append({"step": step, "rss_mb": round(rss_mb(), 1)})
            if info is None:
                return
            _RUN["last_eval"] = time.perf_counter() - _RUN["start"]
            record = {
                "step": info["step"],
                "epoch": info["epoch"],
                "seconds": round(_RUN["last_eval"], 3),
                "words": info["words"],
                "ents_f": float(info["other_scores"]["ents_f"]),
                "losses": {name: float(loss) for name, loss in info["losses"].items()},
                "rss_mb": round(rss_mb(), 1),
            }
            log.write(json.dumps(record) + "\n")
            log.flush()

        return log_step, log.close

    return setup


@registry.callbacks(TIME_BUDGET)
def time_budget(max_seconds: float):
    """A `before_update` callback that stops training at the first update after
    the dev evaluation that found `max_seconds` spent (0: no limit)."""

    def before_update(nlp, info: Dict[str, int]) -> None:
        spent = _RUN["last_eval"]
        if max_seconds and spent is not None and spent >= max_seconds:
            _RUN["stopped_by"] = "time"
            print(
                f"Time budget spent: {spent:.1f} s >= {max_seconds} s at step {info['step']}",
                flush=True,
            )
            raise BudgetSpent()

    return before_update


def write_summary(path: Path) -> None:
    summary = {
        "stopped_by": _RUN["stopped_by"],
        "peak_rss_mb": peak_rss_mb(),
        "rss_curve": _RUN["rss"],
    }
    path.write_text(json.dumps(summary))


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB. Linux's `VmHWM`, not
    `ru_maxrss`: a child started by `subprocess` inherits its parent's
    `ru_maxrss` as a floor, `VmHWM` starts afresh at `exec`."""
    peak = _proc_status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Resident memory of this process now, in MiB (0 where /proc is missing)."""
    return _proc_status_mb("VmRSS") or 0.0


def _proc_status_mb(key: str) -> Optional[float]:
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    return None
