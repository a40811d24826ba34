"""Train the linear model on labelled text and staff corrections; write it as JSON.

Needs scikit-learn (`pip install 'watcher[train]'`), which the daemon itself never imports.

    python -m watcher.classify.train --corpus dev.jsonl [--state state] --out model.json

Deterministic: the same inputs give the same file (lbfgs has no random start).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from watcher.classify.model import LinearModel, document
from watcher.errors import ConfigError

MIN_DF = 2
C = 20.0


def corpus_examples(path: Path) -> list[tuple[str, str]]:
    """(document, label) pairs from a JSON-lines corpus with title, description, text, label."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the training corpus ({exc.strerror})") from None
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if item.get("label") is None:
                continue  # an unlabelled item (a page that does not state what it is)
            out.append(
                (
                    document(
                        str(item.get("text") or ""),
                        str(item.get("title") or ""),
                        str(item.get("description") or ""),
                    ),
                    str(item["label"]),
                )
            )
        except (json.JSONDecodeError, KeyError, AttributeError):
            raise ConfigError(
                f"{path}:{number}: not a labelled item; each line needs text and label"
            ) from None
    return out


def correction_examples(rows: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """A corrected change teaches its own text; a later correction of the same change wins."""
    latest: dict[int, tuple[str, str]] = {}
    for row in rows:
        added = row["added"]
        text = "\n".join(json.loads(added)) if isinstance(added, str) else "\n".join(added)
        latest[int(row["change_id"])] = (document(text, row["title"]), row["label"])
    return list(latest.values())


def fit(examples: Sequence[tuple[str, str]], trained_on: str) -> LinearModel:
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise ConfigError(
            "training needs scikit-learn; install it with `pip install 'watcher[train]'` "
            "(or run `make model`)"
        ) from None
    labels = sorted({label for _, label in examples})
    if len(labels) < 2:
        raise ConfigError("training needs examples of at least two categories")
    vectoriser = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=MIN_DF)
    matrix = vectoriser.fit_transform([doc for doc, _ in examples])
    model = LogisticRegression(C=C, max_iter=5000, class_weight="balanced")
    model.fit(matrix, [label for _, label in examples])
    vocab = {str(term): int(i) for term, i in vectoriser.vocabulary_.items()}
    order = sorted(vocab, key=vocab.__getitem__)
    coef = model.coef_
    intercept = model.intercept_
    if len(model.classes_) == 2:
        # Binary LR keeps one row, the second class's logit; softmax over (0, z) is its sigmoid.
        coef = [[0.0] * coef.shape[1], coef[0]]
        intercept = [0.0, intercept[0]]
    return LinearModel(
        labels=tuple(str(c) for c in model.classes_),
        vocab={term: i for i, term in enumerate(order)},
        idf=tuple(float(v) for v in vectoriser.idf_),
        coef=tuple(tuple(float(v) for v in row) for row in coef),
        intercept=tuple(float(v) for v in intercept),
        ngrams=2,
        trained_on=trained_on,
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train watcher's category model.")
    ap.add_argument("--corpus", type=Path, action="append", default=[], required=True)
    ap.add_argument("--state", type=Path, help="also learn from the corrections stored here")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    try:
        examples: list[tuple[str, str]] = []
        for path in args.corpus:
            examples += corpus_examples(path)
        corrected = 0
        if args.state:
            from watcher.store import Store

            store = Store.open(args.state)
            fixes = correction_examples(store.corrections())
            store.close()
            corrected = len(fixes)
            examples += fixes
        names = ", ".join(p.name for p in args.corpus)
        model = fit(examples, f"{len(examples)} examples ({names}; {corrected} corrections)")
    except ConfigError as exc:
        print(f"train: error: {exc}", file=sys.stderr)
        return 2
    args.out.write_text(model.to_json() + "\n", encoding="utf-8")
    print(
        f"wrote {args.out}: {len(model.labels)} labels, {len(model.vocab)} terms, {model.trained_on}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
