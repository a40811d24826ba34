"""The category model: JSON inference equals scikit-learn's, the shipped file loads, a broken one
is one line, the configured category set is obeyed, and staff corrections retrain it."""

from __future__ import annotations

import asyncio
import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import PageServer, html_page, write_config
from watcher.classify import LABELS, Classifier, classify
from watcher.classify.model import CUE_NAMES, SHIPPED, cues, document, load, parse
from watcher.classify.train import CUE_SCALE, corpus_examples, estimators, fit
from watcher.cli import cli
from watcher.config import load_config
from watcher.errors import ConfigError, WatcherError
from watcher.runtime import check_once
from watcher.store import Store

CORPUS = [
    (
        "Weekly update from the minister",
        "The minister said today that the plan was welcome.",
        "news",
    ),
    ("Minister visits school", "The secretary of state said pupils had done well.", "news"),
    (
        "Press notice: new appointments",
        "It was announced today that two members were appointed.",
        "news",
    ),
    (
        "How to register a childminder",
        "You must register with Ofsted before you start caring.",
        "guidance",
    ),
    (
        "Apply for a licence",
        "You should apply online. You must pay the fee before you apply.",
        "guidance",
    ),
    (
        "Check if you can claim",
        "You can claim if you are a carer and you must tell us of changes.",
        "guidance",
    ),
]


def _corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.jsonl"
    path.write_text(
        "".join(
            json.dumps({"title": t, "text": x, "label": label}) + "\n" for t, x, label in CORPUS
        )
    )
    return path


def test_json_inference_equals_scikit_learn(tmp_path: Path) -> None:
    from scipy.sparse import csr_matrix, hstack

    examples = corpus_examples(_corpus(tmp_path)) * 2  # min_df=2 keeps every term
    ours = parse(fit(examples, "test").to_json(), "test")
    words, chars, _, theirs = estimators(examples)
    probe = document("You must apply before the minister said so today.", "A probe")
    found = cues(probe)
    row = csr_matrix([[found.get(name, 0.0) * CUE_SCALE for name in CUE_NAMES]])
    matrix = hstack([words.transform([probe.words]), chars.transform([probe.words]), row])
    expected = theirs.predict_proba(matrix.tocsr())[0]
    got = ours.probabilities(probe, temperature=1.0)
    for label, p in zip(theirs.classes_, expected, strict=True):
        assert math.isclose(got[label], p, abs_tol=1e-3), (label, got[label], p)


def test_shipped_model_loads_and_knows_every_category_but_minor() -> None:
    model = load()
    assert model is not None and SHIPPED.stat().st_size < 1_500_000  # word, char and cue weights
    assert set(model.labels) == set(LABELS) - {"minor"}
    probs = model.probabilities(
        document("This consultation closes on 11 May 2023.", "Consultation")
    )
    assert math.isclose(sum(probs.values()), 1.0, rel_tol=1e-9)


@pytest.mark.parametrize("content", ["not json", '{"format": 1, "labels": ["a"]}', '{"format": 9}'])
def test_a_broken_model_file_is_one_line_naming_the_fix(tmp_path: Path, content: str) -> None:
    bad = tmp_path / "model.json"
    bad.write_text(content)
    with pytest.raises(ConfigError) as info:
        load.__wrapped__(bad)
    message = str(info.value)
    assert message.splitlines() == [message]
    assert str(bad) in message and "watcher retrain" in message


def test_a_stated_document_type_outweighs_the_wording() -> None:
    text = "The minister said today that the results were welcome."
    assert classify(text, title="Results", model=False)[0].label == "news"
    stated = classify(text, title="Results", model=False, document_type="official_statistics")
    assert stated[0].label == "report"


def test_the_configured_category_set_is_obeyed(tmp_path: Path) -> None:
    text = "The consultation closes on 11 May 2023. It is backed by £200 million of new funding."
    everything = Classifier.shipped()(text, title="Consultation on reform")
    assert {"funding", "consultation_open"} <= {c.label for c in everything}
    narrow = Classifier(labels=("funding",), model=load())(text, title="Consultation on reform")
    assert [c.label for c in narrow] == ["funding"]
    path = write_config(tmp_path / "sources.toml", [])
    path.write_text(path.read_text() + '[classify]\ncategories = ["funding", "strategy"]\n')
    assert load_config(path, environ={}).settings.categories == ("funding", "strategy")
    path.write_text(path.read_text().replace('"strategy"', '"strategies"'))
    with pytest.raises(ConfigError, match="choose from"):
        load_config(path, environ={})


def test_a_correction_is_stored_shown_and_retrained_on(tmp_path: Path, site: PageServer) -> None:
    intro = ["Our service helps families in the north of the county."]
    site.set("/svc", html_page("Family service", intro))
    path = write_config(tmp_path / "sources.toml", [{"name": "svc", "url": site.url("/svc")}])
    config = load_config(path, environ={})
    asyncio.run(check_once(config))
    added = "The zorblax quarterly allocation for families is confirmed for the coming year."
    site.set("/svc", html_page("Family service", [*intro, added]))
    asyncio.run(check_once(config))
    store = Store.open(config.settings.state_dir)
    [change] = store.changes()
    store.close()
    args = ["--config", str(path)]
    runner = CliRunner()

    bad = runner.invoke(cli, ["correct", str(change.id), "fundng", "--by", "ana", *args])
    assert bad.exit_code == 2 and "choose from" in bad.output
    done = runner.invoke(
        cli, ["correct", str(change.id), "funding", "--by", "ana", "--note", "grant", *args]
    )
    assert done.exit_code == 0, done.output
    again = runner.invoke(cli, ["correct", str(change.id), "funding", "--by", "ana", *args])
    assert again.exit_code == 0 and "already funding; nothing recorded" in again.output
    shown = runner.invoke(cli, ["changes", "--format", "json", *args])
    listed = json.loads(shown.output)[0]
    assert listed["category"] == "funding" and listed["corrected_by"] == "ana"
    assert listed["confidence"] is None and listed["corrected_at"]
    store = Store.open(config.settings.state_dir)
    [fix] = store.corrections()
    store.close()
    assert (fix.previous, fix.label, fix.reviewer, fix.note) == (
        change.category,
        "funding",
        "ana",
        "grant",
    )

    retrained = runner.invoke(cli, ["retrain", "--corpus", str(_corpus(tmp_path)), *args])
    assert retrained.exit_code == 0, retrained.output
    assert "1 corrections" in retrained.output
    classifier = Classifier.configured(LABELS, None, config.settings.state_dir)
    assert classifier.model is not None and "funding" in classifier.model.labels
    probe = document("A zorblax allocation for families.", "Family service")
    assert max(classifier.model.probabilities(probe).items(), key=lambda kv: kv[1])[0] == "funding"


def test_retraining_without_scikit_learn_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real = builtins.__import__

    def no_sklearn(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(WatcherError, match=r"watcher\[train\]"):
        fit([("a b", "x"), ("c d", "y")], "test")


def test_jsonl_reads_description_url_and_document_type() -> None:
    line = json.dumps(
        {
            "id": "a",
            "title": "Furniture fire safety",
            "text": "The regulations set levels of fire resistance.",
            "document_type": "closed_consultation",
        }
    )
    out = CliRunner().invoke(cli, ["classify", "--jsonl"], input=line + "\n")
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert result["id"] == "a" and result["categories"][0]["label"] == "consultation_outcome"
    assert datetime.now(UTC)  # the command is pure: no state dir was needed


def test_in_a_change_the_sentence_with_a_closing_date_outweighs_the_title() -> None:
    title = "CoramBAAF reaction to the Government's response to the Independent Review"
    added = (
        "Update: the Department for Education has confirmed that the consultation on the "
        "National Framework now closes on 11 May 2023, and £45 million of new funding was announced."
    )
    as_page = [c.label for c in classify(added, title=title)]
    as_change = [c.label for c in Classifier.shipped()(added, title=title)]
    assert as_change[:2] == ["consultation_open", "funding"], as_change
    assert as_page[0] == "consultation_open"  # whoever publishes it


def test_a_model_retrained_before_the_upgrade_still_loads(tmp_path: Path) -> None:
    """Format 1 (word n-grams only, issue 5) keeps a state directory's model working."""
    old = tmp_path / "model.json"
    old.write_text(
        json.dumps(
            {
                "format": 1,
                "labels": ["funding", "news"],
                "ngrams": 2,
                "vocab": ["fund", "said"],
                "idf": [1.0, 1.0],
                "coef": [[2.0, -2.0], [-2.0, 2.0]],
                "intercept": [0.0, 0.0],
            }
        )
    )
    model = load.__wrapped__(old)
    assert model is not None and model.chars == {} and model.cue_names == ()
    probs = model.probabilities(document("A new fund opens."))
    assert probs["funding"] > probs["news"]


def test_the_shipped_model_is_calibrated_and_has_a_threshold_per_category() -> None:
    model = load()
    assert model is not None and "pages_dev.jsonl" in model.trained_on
    assert model.temperature != 1.0 and 0.25 <= model.temperature <= 4.0
    assert set(model.thresholds) == set(model.labels)
    assert all(0.0 < t <= 0.9 for t in model.thresholds.values())
    assert Classifier(model=model).thresholds() == model.thresholds
