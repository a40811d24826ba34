"""Train the linear model on labelled text and staff corrections; write it as JSON.

Needs scikit-learn (`pip install 'watcher[train]'`), which the daemon itself never imports.

    python -m watcher.classify.train --corpus dev.jsonl [--state state] --out model.json

Deterministic: the same inputs give the same file (lbfgs has no random start).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from watcher.classify.model import CHARS, CUE_NAMES, LinearModel, Page, cues, document, site
from watcher.errors import ConfigError
from watcher.rows import CorrectionRow

MIN_DF = 2
# The 4,000 commonest character n-grams: as good as all 25,000 on grouped CV (0.839 vs 0.830
# macro-F1), with a model file a third the size.
MAX_CHARS = 4000
C = 20.0
CUE_SCALE = 1.0


def corpus_examples(path: Path) -> list[tuple[Page, str]]:
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
            out += item_examples(json.loads(line))
        except (json.JSONDecodeError, KeyError, AttributeError):
            raise ConfigError(
                f"{path}:{number}: not a labelled item; each line needs text and label"
            ) from None
    return out


def item_examples(item: dict[str, Any]) -> list[tuple[Page, str]]:
    """A labelled page teaches its whole text; the sentence quoted as the basis of its label
    (`label_basis`), on a page with the same title, teaches what a change stating it reads like.
    An item without a label teaches nothing (a page that does not state what it is)."""
    if item.get("label") is None:
        return []
    label = str(item["label"])
    title = str(item.get("title") or "")
    url = str(item.get("url") or "")
    page = document(str(item.get("text") or ""), title, str(item.get("description") or ""), url)
    out = [(page, label)]
    if item.get("label_basis"):
        out.append((document(str(item["label_basis"]), title, url=url), label))
    return out


def correction_examples(rows: Iterable[CorrectionRow]) -> list[tuple[Page, str]]:
    """A corrected change teaches its own text; a later correction of the same change wins."""
    latest: dict[int, tuple[Page, str]] = {}
    for row in rows:
        page = document("\n".join(row.added), row.title, url=row.url)
        latest[row.change_id] = (page, row.label)
    return list(latest.values())


def fit(
    examples: Sequence[tuple[Page, str]],
    trained_on: str,
    groups: Sequence[str] | None = None,
) -> LinearModel:
    """The model over `examples`. Its temperature and per-category thresholds are fitted on
    cross-validation grouped by `groups` (by default each example's site), so no site is scored
    by a model that saw it."""
    model = _fit(examples, trained_on)
    groups = [site(page) for page, _ in examples] if groups is None else groups
    if len(set(groups)) >= 2 * CALIBRATION_FOLDS:
        held = out_of_fold(examples, groups, CALIBRATION_FOLDS, model.labels)
        truth = [label for _, label in examples]
        temperature = fit_temperature(held, truth, model.labels)
        thresholds = fit_thresholds(held, truth, model.labels, temperature)
        model = replace(model, temperature=temperature, thresholds=thresholds)
    return model


CALIBRATION_FOLDS = 5
TARGET_PRECISION = 0.8


def grouped_folds(groups: Sequence[str], k: int) -> list[list[int]]:
    """Groups dealt round-robin into k folds, largest first: deterministic, no group split."""
    members: dict[str, list[int]] = {}
    for i, group in enumerate(groups):
        members.setdefault(group, []).append(i)
    out: list[list[int]] = [[] for _ in range(k)]
    for n, ids in enumerate(sorted(members.values(), key=lambda g: (-len(g), g[0]))):
        out[n % k].extend(ids)
    return out


def out_of_fold(
    examples: Sequence[tuple[Page, str]], groups: Sequence[str], k: int, labels: Sequence[str]
) -> list[list[float]]:
    """Each example's logits from a model trained without its group."""
    logits: list[list[float]] = [[] for _ in examples]
    for test in grouped_folds(groups, k):
        held = set(test)
        model = _fit([e for i, e in enumerate(examples) if i not in held], "fold")
        for i in test:
            by_label = dict(zip(model.labels, model.logits(examples[i][0]), strict=True))
            logits[i] = [by_label.get(label, -30.0) for label in sorted(labels)]
    return logits


def _nll(logits: Sequence[Sequence[float]], truth: Sequence[int], t: float) -> float:
    total = 0.0
    for row, y in zip(logits, truth, strict=True):
        top = max(row) / t
        total -= row[y] / t - top - math.log(sum(math.exp(z / t - top) for z in row))
    return total / len(truth)


def fit_temperature(
    logits: Sequence[Sequence[float]], truth: Sequence[str], labels: Sequence[str]
) -> float:
    """The temperature that minimises the log loss of held-out logits (a grid, deterministic)."""
    index = {label: i for i, label in enumerate(sorted(labels))}
    y = [index[t] for t in truth]
    grid = [round(0.25 + 0.05 * n, 2) for n in range(76)]  # 0.25 .. 4.0
    return min(grid, key=lambda t: (_nll(logits, y, t), t))


def fit_thresholds(
    logits: Sequence[Sequence[float]],
    truth: Sequence[str],
    labels: Sequence[str],
    temperature: float,
) -> dict[str, float]:
    """Per category, the lowest confidence above which held-out predictions of it were right at
    least TARGET_PRECISION of the time (0.5 when none reach it, so a route stays cautious)."""
    names = sorted(labels)
    out: dict[str, float] = {}
    for label in names:
        scored = []
        for row, t in zip(logits, truth, strict=True):
            probs = _softmax([z / temperature for z in row])
            top = max(range(len(names)), key=probs.__getitem__)
            if names[top] == label:
                scored.append((probs[top], t == label))
        scored.sort(reverse=True)
        best, hits = 0.5, 0
        for n, (p, right) in enumerate(scored, start=1):
            hits += right
            if hits / n >= TARGET_PRECISION:
                best = p
        out[label] = round(min(best, 0.9), 3)
    return out


def _softmax(row: Sequence[float]) -> list[float]:
    top = max(row)
    exps = [math.exp(z - top) for z in row]
    total = sum(exps)
    return [e / total for e in exps]


def estimators(examples: Sequence[tuple[Page, str]]) -> tuple[Any, Any, Any, Any]:
    """scikit-learn's word and char vectorisers, the cue matrix scale, and the fitted regression."""
    try:
        from scipy.sparse import csr_matrix, hstack
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
    words = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=MIN_DF)
    chars = TfidfVectorizer(
        sublinear_tf=True,
        analyzer="char_wb",
        ngram_range=CHARS,
        min_df=MIN_DF,
        max_features=MAX_CHARS,
    )
    docs = [page.words for page, _ in examples]
    rows = [cues(page) for page, _ in examples]
    cue_matrix = csr_matrix(
        [[row.get(name, 0.0) * CUE_SCALE for name in CUE_NAMES] for row in rows]
    )
    matrix = hstack([words.fit_transform(docs), chars.fit_transform(docs), cue_matrix]).tocsr()
    model = LogisticRegression(C=C, max_iter=5000, class_weight="balanced")
    model.fit(matrix, [label for _, label in examples])
    return words, chars, matrix, model


def _fit(examples: Sequence[tuple[Page, str]], trained_on: str) -> LinearModel:
    words, chars, _, model = estimators(examples)
    coef = model.coef_
    intercept = model.intercept_
    if len(model.classes_) == 2:
        # Binary LR keeps one row, the second class's logit; softmax over (0, z) is its sigmoid.
        coef = [[0.0] * coef.shape[1], coef[0]]
        intercept = [0.0, intercept[0]]
    word_vocab = {str(t): int(i) for t, i in words.vocabulary_.items()}
    char_vocab = {str(t): int(i) for t, i in chars.vocabulary_.items()}
    return LinearModel(
        labels=tuple(str(c) for c in model.classes_),
        vocab=word_vocab,
        idf=tuple(float(v) for v in words.idf_),
        coef=tuple(tuple(float(v) for v in row) for row in coef),
        intercept=tuple(float(v) for v in intercept),
        ngrams=2,
        trained_on=trained_on,
        chars=char_vocab,
        char_idf=tuple(float(v) for v in chars.idf_),
        cue_names=CUE_NAMES,
        cue_scale=CUE_SCALE,
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train watcher's category model.")
    ap.add_argument("--corpus", type=Path, action="append", default=[], required=True)
    ap.add_argument("--state", type=Path, help="also learn from the corrections stored here")
    ap.add_argument(
        "--database-env",
        metavar="VAR",
        help="with --state: read the corrections from the PostgreSQL database whose URL this "
        "environment variable holds, like WATCHER_DATABASE_URL",
    )
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    try:
        examples: list[tuple[Page, str]] = []
        for path in args.corpus:
            examples += corpus_examples(path)
        corrected = 0
        if args.state:
            from watcher.store import Store

            url = os.environ.get(args.database_env, "") if args.database_env else ""
            store = Store.open(args.state, url or None)
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
