"""`python -m spacy_lstm_ner select MODEL INPUT OUTPUT --n N [--strategy mnlp]`:
choose the texts to annotate next with `spacy_lstm_ner.selection.select`."""

import sys
import time
from pathlib import Path

import spacy
import srsly
import tqdm
import typer
from wasabi import msg

from ..selection import count_texts, read_texts, select, to_task
from ..uncertainty import STRATEGIES
from .app import app


@app.command("select")
def select_cli(
    model: str = typer.Argument(
        ..., help="Pipeline directory or installed package with an lstm_ner component"
    ),
    input_path: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        help="Unlabelled texts: .txt (one a line), .jsonl (a 'text' a line) or .spacy",
    ),
    output: Path = typer.Argument(..., dir_okay=False, help="The chosen texts, as .jsonl"),
    n: int = typer.Option(..., "--n", "-n", min=1, help="How many texts to choose"),
    strategy: str = typer.Option(
        "mnlp",
        "--strategy",
        "-s",
        help=f"{' | '.join(STRATEGIES)}: least probable best path per token, most "
        "expected entity errors, or uniformly at random",
    ),
    component: str = typer.Option(
        "lstm_ner", "--component", "-c", help="Name of the lstm_ner component"
    ),
    batch_size: int = typer.Option(256, "--batch-size", "-b", min=1, help="Texts per batch"),
    text_key: str = typer.Option("text", "--text-key", "-tk", help="Key of the text in .jsonl"),
    seed: int = typer.Option(0, "--seed", help="Seed of the random strategy"),
) -> None:
    """Rank INPUT's texts by how unsure MODEL's lstm_ner is of them and write the
    N most uncertain to OUTPUT, each with its predicted entities and their
    probabilities, ready to annotate."""
    if strategy not in STRATEGIES:
        msg.fail(
            f"Unknown --strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}.", exits=1
        )
    nlp = spacy.load(model)
    if component not in nlp.pipe_names:
        msg.fail(f"{model} has no component {component!r}: it has {nlp.pipe_names}.", exits=1)
    ner = nlp.get_pipe(component)
    ner.score_ents = True
    bad_lines = []

    def on_bad_line(bad) -> None:
        bad_lines.append(bad)
        progress.write(f"Skipped {bad}", file=sys.stderr)

    start = time.perf_counter()
    with tqdm.tqdm(total=count_texts(input_path), unit="text", file=sys.stderr) as progress:
        chosen = select(
            nlp,
            read_texts(input_path, text_key),
            n,
            strategy=strategy,
            component=component,
            batch_size=batch_size,
            seed=seed,
            on_bad_line=on_bad_line,
            on_text=lambda: progress.update(1),
        )
        n_read = progress.n
    seconds = time.perf_counter() - start
    srsly.write_jsonl(output, (to_task(item, strategy, ner.spans_key) for item in chosen))
    msg.good(
        f"Chose {len(chosen):,} of {n_read:,} texts by {strategy} in {seconds:.1f}s "
        f"({n_read / max(seconds, 1e-9):,.0f} texts/s); wrote {output}"
    )
    if bad_lines:
        msg.warn(f"Skipped {len(bad_lines):,} lines that could not be read (listed above).")
