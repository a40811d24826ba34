"""Categories: `classify` a text, `correct` a change, `retrain` the model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from watcher.cli.group import cli, common_options, optional_config
from watcher.cli.output import cut
from watcher.config import Config
from watcher.errors import WatcherError
from watcher.store.ops import open_store


@cli.command(name="classify")
@click.argument("source", metavar="[FILE]", type=click.File("r", encoding="utf-8"), default="-")
@click.option("--title", default="", help="The page's title, which weighs in.")
@click.option(
    "--url",
    default="",
    help="The page's URL: its path weighs in (e.g. /consultations/); a legislation.gov.uk or "
    "bills.parliament.uk address decides.",
)
@click.option(
    "--jsonl",
    is_flag=True,
    help='Read JSON lines {"id", "title", "text"} (and optional "description", "url", '
    '"document_type"); write one JSON line each.',
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="A retrained model file [default: [classify] model, else STATE/model.json if there, "
    "else the shipped one, as the daemon chooses].",
)
@optional_config
def classify_command(
    config: Config | None,
    source: Any,
    title: str,
    url: str,
    jsonl: bool,
    model_path: Path | None,
) -> None:
    """Categories, confidence and evidence of a text (FILE, or standard input). Needs no sources
    file; with one, it uses the model the daemon uses."""
    from watcher.classify import MODEL_FILE, classify, gather
    from watcher.classify.model import load

    if model_path is None and config is not None:
        retrained = config.settings.state_dir / MODEL_FILE
        model_path = config.settings.model_path or (retrained if retrained.is_file() else None)
    try:
        model = load(model_path)
    except WatcherError as exc:
        raise click.ClickException(str(exc)) from None

    def result(item: dict[str, Any]) -> dict[str, Any]:
        text = str(item.get("text") or "")
        categories = classify(
            text,
            title=str(item.get("title") or ""),
            url=str(item.get("url") or ""),
            description=str(item.get("description") or ""),
            document_type=str(item.get("document_type") or ""),
            model=model if model is not None else False,
        )
        evidence = gather(tuple(text.splitlines()))
        thresholds = model.thresholds if model is not None else {}
        return {
            "categories": [
                {"label": c.label, "confidence": c.confidence, "threshold": thresholds.get(c.label)}
                for c in categories
            ],
            "decided_by": categories[0].decided_by if categories else "",
            "evidence": {
                "sentences": list(
                    dict.fromkeys(
                        [c.sentence for c in categories if c.sentence] + list(evidence.sentences)
                    )
                ),
                "facts": [
                    {"kind": f.kind, "text": f.text, "value": f.value} for f in evidence.facts
                ],
            },
        }

    if jsonl:
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                out = {"id": item.get("id"), **result(item)}
            except (json.JSONDecodeError, AttributeError) as exc:
                raise click.BadParameter(
                    f"line {number} is not a JSON object ({exc})", param_hint="FILE"
                ) from None
            click.echo(json.dumps(out, ensure_ascii=False))
        return
    out = result({"text": source.read(), "title": title, "url": url})
    for c in out["categories"]:
        click.echo(f"{c['label']:<22} {c['confidence']:.2f}")
    for sentence in out["evidence"]["sentences"]:
        click.echo(f"  evidence: {cut(sentence, 120)}")
    for fact in out["evidence"]["facts"]:
        click.echo(
            f"  {fact['kind']}: {fact['text']}" + (f" = {fact['value']}" if fact["value"] else "")
        )


@cli.command()
@click.argument("change_id", type=int)
@click.argument("label")
@click.option("--by", "reviewer", required=True, help="Who corrects it (kept with the change).")
@click.option("--note", default="", help="Why, for the record.")
@common_options
def correct(config: Config, change_id: int, label: str, reviewer: str, note: str) -> None:
    """Set a change's category by hand; `watcher retrain` learns from it."""
    if label not in config.settings.categories:
        raise click.BadParameter(
            f"{label!r} is not a category; choose from {', '.join(config.settings.categories)}",
            param_hint="LABEL",
        )
    store = open_store(config.settings.state_dir, config.settings.database_url)
    try:
        done = store.correct(change_id, label, reviewer.strip(), note, datetime.now(UTC))
    except KeyError:
        raise click.BadParameter(
            f"no change #{change_id}; list them with `watcher changes`", param_hint="CHANGE_ID"
        ) from None
    finally:
        store.close()
    if done is None:
        click.echo(f"#{change_id}: already {label}; nothing recorded")
        return
    click.echo(f"#{change_id}: {done.previous or 'none'} -> {label} (by {reviewer.strip()})")


@cli.command()
@click.option(
    "--corpus",
    "corpora",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Labelled JSON lines (title, text, label; optional description, url and "
    "label_basis, the sentence that states the label) to learn from; repeat for several.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the model [default: STATE/model.json, which the daemon then uses].",
)
@common_options
def retrain(config: Config, corpora: tuple[Path, ...], out: Path | None) -> None:
    """Retrain the category model on a corpus plus every stored correction (needs scikit-learn)."""
    from watcher.classify import MODEL_FILE
    from watcher.classify.train import corpus_examples, correction_examples, fit

    store = open_store(config.settings.state_dir, config.settings.database_url)
    try:
        fixes = correction_examples(store.corrections())
    finally:
        store.close()
    examples = [e for path in corpora for e in corpus_examples(path)] + fixes
    names = ", ".join(p.name for p in corpora)
    model = fit(examples, f"{len(examples)} examples ({names}; {len(fixes)} corrections)")
    target = out or config.settings.state_dir / MODEL_FILE
    target.write_text(model.to_json() + "\n", encoding="utf-8")
    click.echo(f"wrote {target}: {len(model.labels)} categories, {model.trained_on}")
