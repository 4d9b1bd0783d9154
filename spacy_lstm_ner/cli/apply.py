"""`python -m spacy_lstm_ner apply MODEL DATA_PATH OUTPUT_DIR`: annotate a corpus on Dask
with `spacy_lstm_ner.annotate.apply`."""

import sys
from pathlib import Path
from typing import Optional

import typer
from wasabi import msg

from ..annotate import InputError, ManifestError, ModelError, apply
from .app import app


@app.command("apply")
def apply_cli(
    model: str = typer.Argument(..., help="Pipeline directory or installed pipeline package"),
    data_path: Path = typer.Argument(
        ...,
        exists=True,
        help="A .spacy, .jsonl or text file, or a directory of them (searched recursively)",
    ),
    output_dir: Path = typer.Argument(
        ..., file_okay=False, help="Directory for the shards and manifest.json"
    ),
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler", help="Address of a running Dask scheduler; default: a local cluster"
    ),
    n_workers: Optional[int] = typer.Option(
        None,
        "--n-workers",
        "-n",
        min=1,
        help="Worker processes of the local cluster; default: one per core",
    ),
    batch_size: int = typer.Option(256, "--batch-size", "-b", min=1, help="nlp.pipe batch size"),
    text_key: str = typer.Option(
        "text", "--text-key", "-tk", help="Key of the text in .jsonl lines"
    ),
    docs_per_shard: int = typer.Option(
        1000, "--docs-per-shard", "-k", min=1, help="Docs per output shard"
    ),
    code: Optional[Path] = typer.Option(
        None,
        "--code",
        "-c",
        help="Python file with the pipeline's custom functions, imported on every worker",
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Delete the shards of another run in OUTPUT_DIR and start over"
    ),
) -> None:
    """Annotate DATA_PATH with MODEL into DocBin shards 00000.spacy, 00001.spacy, ...
    and manifest.json in OUTPUT_DIR. Rerunning the same command resumes."""
    if scheduler is not None and n_workers is not None:
        msg.warn(
            "--n-workers sizes the local cluster only; with --scheduler the cluster's workers run"
        )
    try:
        summary = apply(
            model,
            data_path,
            output_dir,
            scheduler=scheduler,
            n_workers=n_workers,
            batch_size=batch_size,
            text_key=text_key,
            docs_per_shard=docs_per_shard,
            code=code,
            overwrite=overwrite,
        )
    except (InputError, RuntimeError) as error:
        msg.fail(str(error))
        msg.info(f"The complete shards stay in {output_dir}: rerun the command to resume.")
        sys.exit(1)
    except (ManifestError, ModelError, ImportError, ValueError) as error:
        msg.fail(str(error))
        sys.exit(1)
    msg.good(
        f"Annotated {summary.docs:,} docs ({summary.words:,} words) in {summary.seconds:.1f}s: "
        f"{summary.words_per_second:,.0f} words/s on {summary.workers} workers "
        f"(and {summary.startup_seconds:.1f}s to start them and load the model)"
    )
    if summary.shards_skipped:
        msg.info(f"{summary.shards_skipped} shards were already complete and skipped")
    msg.info(f"Wrote {summary.shards_written} shards and manifest.json to {output_dir}")
