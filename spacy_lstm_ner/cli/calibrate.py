"""`python -m spacy_lstm_ner calibrate MODEL DEV_PATH [--component lstm_ner] [--output DIR]`:
calibrate the entity probabilities of a trained pipeline's lstm_ner on held-out data
with `spacy_lstm_ner.calibration.calibrate_pipeline`.

Fits one temperature, which divides every score of the model before the
probabilities are computed (so the best path, and the entities, stay the same),
to minimize the log-loss of "this predicted entity is right" on DEV_PATH; stores
it in the component's cfg and saves the pipeline (in place unless --output).
Prints the expected calibration error on DEV_PATH before and after.
"""

from pathlib import Path
from typing import Optional

import spacy
import typer
from wasabi import msg

from ..calibration import NothingToCalibrate, calibrate_pipeline
from .app import app


@app.command("calibrate")
def calibrate_cli(
    model: str = typer.Argument(
        ..., help="Pipeline directory or installed package with an lstm_ner component"
    ),
    dev_path: Path = typer.Argument(
        ..., help="Held-out .spacy file (not the test set)", exists=True, dir_okay=False
    ),
    component: str = typer.Option(
        "lstm_ner", "--component", "-c", help="Name of the lstm_ner component"
    ),
    output: Optional[Path] = typer.Option(
        None,
        "--output",
        "-o",
        help="Where to save the calibrated pipeline (default: MODEL, in place)",
    ),
    batch_size: int = typer.Option(256, "--batch-size", "-b", help="Docs per batch"),
) -> None:
    """Fit the temperature of lstm_ner's entity probabilities on held-out data."""
    nlp = spacy.load(model)
    if component not in nlp.pipe_names:
        msg.fail(
            f"{model} has no component {component!r}: its components are {nlp.pipe_names}.", exits=1
        )
    if output is None and not Path(model).is_dir():
        msg.fail(
            f"{model} is not a directory: give --output, where to save the calibrated pipeline.",
            exits=1,
        )
    destination = output or Path(model)
    try:
        result = calibrate_pipeline(nlp, dev_path, component, batch_size=batch_size)
    except NothingToCalibrate as error:
        nlp.to_disk(destination)
        msg.warn(
            f"{error} The temperature stays {nlp.get_pipe(component).cfg['temperature']}; saved to {destination}."
        )
        return
    nlp.to_disk(destination)
    msg.table(
        [
            ("temperature", f"{result['temperature']:.3f}"),
            ("entities", f"{result['n_entities']:,}"),
            ("ECE before", f"{result['ece_before']:.4f}"),
            ("ECE after", f"{result['ece_after']:.4f}"),
        ],
        title=f"{component} calibrated on {dev_path}",
    )
    msg.good(f"Saved the calibrated pipeline to {destination}")
