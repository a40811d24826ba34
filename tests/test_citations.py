"""Citable archive and structured integrations, end to end: loopback pages -> a real check ->
a real SQLite file -> `watcher cite`, the snapshot permalink, a JSON webhook received over
loopback HTTP and validated against docs/schema/change-v1.json, and the same object in the
API and the Atom feed."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import sqlite3
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from starlette.testclient import TestClient

from tests.conftest import REPO, PageServer, html_page, write_config
from watcher.config import Config, load_config
from watcher.errors import ConfigError
from watcher.runtime import check_once
from watcher.web.app import create_app
from watcher.web.feeds import CHANGE_NS

PUBLIC = "https://watcher.example.org"
SCHEMA = json.loads((REPO / "docs" / "schema" / "change-v1.json").read_text(encoding="utf-8"))
CANARY = "CANARY-HOOK-SECRET-51c2"
PARAS = [
    "The Department for Education has opened a consultation on kinship care.",
    "It commits £200 million over the next two years to support kinship carers.",
    "The consultation closes on 11 May 2027.",
]
EDITED = [
    PARAS[0],
    PARAS[1].replace("£200 million", "£250 million"),
    PARAS[2],
    "A new funding round of £40 million opens for local authorities in June.",
    "The consultation on the funding round closes on 30 June 2027.",
]


def _config_file(tmp_path: Path, url: str, hook: bool = False, fmt: str = "json") -> Path:
    path = write_config(
        tmp_path / "sources.toml",
        [{"name": "dfe-kinship", "url": url}],
        watcher=f'[web]\npublic_url = "{PUBLIC}"',
    )
    if hook:
        with path.open("a", encoding="utf-8") as f:
            f.write(f'[[notify]]\nname = "hook"\nenv = "HOOK_URL"\nformat = "{fmt}"\n')
    return path


def _two_passes(config: Config, site: PageServer) -> None:
    site.set("/kinship", html_page("Kinship care", PARAS))
    results, _ = asyncio.run(check_once(config))
    assert results[0].outcome == "baseline"
    site.set("/kinship", html_page("Kinship care", EDITED))
    results, _ = asyncio.run(check_once(config))
    assert results[0].outcome == "changed"


def _stored_text(db: Path, digest: str) -> str:
    """The snapshot's text read straight out of the SQLite file, decoded by hand."""
    with sqlite3.connect(db) as c:
        ztext, text = c.execute(
            "SELECT ztext, text FROM snapshots WHERE hash = ?", (digest,)
        ).fetchone()
    return zlib.decompress(ztext).decode("utf-8") if ztext is not None else text


def _watcher(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    return subprocess.run(
        [sys.executable, "-m", "watcher.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cite_names_retrieval_time_and_a_hash_recomputable_from_the_stored_text(
    tmp_path: Path, site: PageServer
) -> None:
    path = _config_file(tmp_path, site.url("/kinship"))
    config = load_config(path, environ={})
    _two_passes(config, site)
    db = config.settings.state_dir / "watcher.db"
    with sqlite3.connect(db) as c:
        change_id, after, before, detected_at = c.execute(
            "SELECT id, after_hash, before_hash, detected_at FROM changes"
        ).fetchone()
    stored = _stored_text(db, after)
    assert "£250 million" in stored
    assert hashlib.sha256(stored.encode("utf-8")).hexdigest() == after

    plain = _watcher("cite", str(change_id), "--config", str(path), cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    text = plain.stdout
    assert f"SHA-256 of the stored text: {after}\n" in text
    assert "Retrieved: " in text and f"({detected_at})" in text and "UTC" in text
    assert f"URL: {site.url('/kinship')}" in text and text.startswith("dfe-kinship.")
    assert "£250 million" in text  # the excerpt of what changed
    assert f"Archived copy: {PUBLIC}/snapshots/{after}" in text
    assert f"Change: {PUBLIC}/changes/{change_id}" in text

    as_json = _watcher(
        "cite", str(change_id), "--format", "json", "--config", str(path), cwd=tmp_path
    )
    data = json.loads(as_json.stdout)
    assert data["sha256"] == after and data["before_sha256"] == before and data["verified"]
    assert data["retrieved_at"] == detected_at and data["url"] == site.url("/kinship")
    assert data["permalink"] == f"{PUBLIC}/snapshots/{after}"

    bib = _watcher(
        "cite", str(change_id), "--format", "bibtex", "--config", str(path), cwd=tmp_path
    )
    assert bib.stdout.startswith(f"@misc{{watcher-change-{change_id},") and after in bib.stdout
    assert f"urldate = {{{detected_at[:10]}}}" in bib.stdout
    md = _watcher(
        "cite", str(change_id), "--format", "markdown", "--config", str(path), cwd=tmp_path
    )
    assert f"`{after}`" in md.stdout and f"<{site.url('/kinship')}>" in md.stdout

    # The permalink shows the same text, hash, source, URL and time; the plain-text copy's
    # bytes hash to the address.
    with TestClient(create_app(config), base_url="http://127.0.0.1") as web:
        page = web.get(f"/snapshots/{after}")
        assert page.status_code == 200
        assert after in page.text and "checked: the text below has this hash" in page.text
        assert "dfe-kinship" in page.text and site.url("/kinship") in page.text
        assert f'datetime="{detected_at}"' in page.text and "£250 million" in page.text
        raw = web.get(f"/snapshots/{after}.txt")
        assert hashlib.sha256(raw.content).hexdigest() == after
        change_page = web.get(f"/changes/{change_id}")
        assert (
            'id="cite"' in change_page.text
            and f"Archived copy: {PUBLIC}/snapshots/{after}" in change_page.text
        )
        assert web.get("/snapshots/" + "0" * 64).status_code == 404
        # Exports carry the citation: hash, retrieval time, URL and permalink.
        exported = web.get("/export.json").json()[0]
        assert exported["sha256"] == after and exported["retrieved_at"] == detected_at
        assert exported["url"] == site.url("/kinship")
        assert exported["permalink"] == f"{PUBLIC}/snapshots/{after}"
        assert f"{after},{detected_at},{PUBLIC}/snapshots/{after}" in web.get("/export.csv").text
    cli_json = json.loads(
        _watcher("changes", "--format", "json", "--config", str(path), cwd=tmp_path).stdout
    )
    assert cli_json[0]["sha256"] == after and cli_json[0]["retrieved_at"] == detected_at

    # A stored copy altered after the fact no longer vouches for itself.
    with sqlite3.connect(db) as c:
        c.execute(
            "UPDATE snapshots SET ztext = ? WHERE hash = ?",
            (zlib.compress(stored.replace("£250", "£999").encode("utf-8")), after),
        )
    tampered = _watcher("cite", str(change_id), "--config", str(path), cwd=tmp_path)
    assert tampered.returncode == 1
    assert (
        "no longer matches this hash" in tampered.stdout and "altered or damaged" in tampered.stderr
    )
    missing = _watcher("cite", "99", "--config", str(path), cwd=tmp_path)
    assert missing.returncode == 1 and "no change #99" in missing.stderr


def _validate(payload: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(payload)


def _from_xml(element: ET.Element) -> Any:
    """The change-v1 object back out of an Atom entry's <w:change> (scalars as text)."""
    if element.get("nil") == "true":
        return None
    if element.get("list") == "true":
        return [_from_xml(child) for child in element]
    if len(element):
        return {child.tag.split("}", 1)[1]: _from_xml(child) for child in element}
    return element.text or ""


def _as_text(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@pytest.fixture
def hooked(tmp_path: Path, site: PageServer, receiver: PageServer) -> Iterator[Config]:
    path = _config_file(tmp_path, site.url("/kinship"), hook=True)
    url = f"json://watcher:{CANARY}@127.0.0.1:{receiver.port}/hook"
    yield load_config(path, environ={"HOOK_URL": url})


def test_json_webhook_validates_against_the_published_schema_and_matches_api_and_atom(
    hooked: Config, site: PageServer, receiver: PageServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _two_passes(hooked, site)
    posts = receiver.requests(method="POST")
    assert len(posts) == 1
    assert posts[0].headers.get("Content-Type") == "application/json"
    assert CANARY not in posts[0].body.decode("utf-8")
    payload = json.loads(posts[0].body)
    _validate(payload)

    assert payload["schema"] == "watcher.change.v1" and payload["schema_version"] == 1
    assert payload["event"] == "change" and payload["source"] == "dfe-kinship"
    assert payload["url"] == site.url("/kinship") and payload["title"] == "Kinship care"
    assert payload["link"] == f"{PUBLIC}/changes/{payload['id']}"
    assert payload["categories"], "the change's categories, with confidence"
    assert all(0 <= c["confidence"] <= 1 for c in payload["categories"])
    assert payload["category"] == payload["categories"][0]["name"]
    assert payload["correction"] is None  # no staff correction: the classifier's label stands
    money = [f for f in payload["facts"] if f["kind"] == "money"]
    assert any(f["text"].startswith("£250 million") for f in money)
    assert "£40 million" in {f["text"] for f in money}
    assert any(f["value"] == "40000000" for f in money)
    assert all(f["sentence"] in payload["evidence"] for f in payload["facts"])
    assert payload["topics"] == [] and payload["story"] is None
    assert [d["due"] for d in payload["deadlines"]] == ["2027-06-30"]
    assert payload["deadlines"][0]["text"] == "30 June 2027"
    db = hooked.settings.state_dir / "watcher.db"
    stored = _stored_text(db, payload["snapshot"]["sha256"])
    assert hashlib.sha256(stored.encode("utf-8")).hexdigest() == payload["snapshot"]["sha256"]
    assert payload["snapshot"]["retrieved_at"] == payload["detected_at"]
    assert payload["snapshot"]["permalink"] == f"{PUBLIC}/snapshots/{payload['snapshot']['sha256']}"
    # The Apprise envelope's own keys are gone: the object is the whole body.
    assert not {"version", "message", "attachments", "type"} & set(payload)

    with TestClient(create_app(hooked), base_url=PUBLIC) as web:
        api = web.get(f"/api/v1/changes/{payload['id']}")
        assert api.status_code == 200 and api.json() == payload
        listed = web.get("/api/v1/changes").json()
        assert listed["items"] == [payload] and listed["total"] == 1
        feed = ET.fromstring(web.get("/feed.atom").content)
    entries = feed.findall("{http://www.w3.org/2005/Atom}entry")
    carried = _from_xml(entries[0].find(f"{{{CHANGE_NS}}}change"))
    assert carried == _as_text(payload)

    logged = "\n".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    assert CANARY not in logged


def test_json_webhook_failure_names_the_target_never_its_url(
    hooked: Config, site: PageServer, receiver: PageServer, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.set("/hook", b"no", status=500)
    caplog.set_level(logging.DEBUG)
    _two_passes(hooked, site)
    from watcher.store import Store

    store = Store.open(hooked.settings.state_dir)
    try:
        errors = [r.last_error or "" for r in store.outbox()]
    finally:
        store.close()
    assert errors and all("'hook'" in e and CANARY not in e for e in errors)
    assert CANARY not in "\n".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    payload = json.loads(receiver.requests(method="POST")[0].body)
    _validate(payload)


def test_json_format_needs_a_json_url(tmp_path: Path, site: PageServer) -> None:
    path = _config_file(tmp_path, site.url("/kinship"), hook=True)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={"HOOK_URL": f"mailto://u:{CANARY}@127.0.0.1:1?to=a@b.org"})
    assert "json://" in str(caught.value) and CANARY not in str(caught.value)
    with pytest.raises(ConfigError):
        _config_file(tmp_path, site.url("/kinship"), hook=True, fmt="yaml")
        load_config(path, environ={})


def test_digest_reminder_health_and_test_messages_validate(tmp_path: Path) -> None:
    from watcher.rows import DeadlineRow
    from watcher.structured import (
        batch_object,
        health_object,
        probe_object,
        reminder_object,
    )

    change = {
        "schema": "watcher.change.v1",
        "schema_version": 1,
        "event": "change",
        "id": 3,
        "kind": "edit",
        "source": "s",
        "url": "http://127.0.0.1/x",
        "title": "t",
        "summary": "s",
        "category": None,
        "categories": [],
        "facts": [],
        "evidence": [],
        "topics": [{"name": "kinship", "sentence": "About kinship."}],
        "story": None,
        "deadlines": [],
        "detected_at": "2026-11-29T09:00:00+00:00",
        "link": None,
        "snapshot": {
            "sha256": "a" * 64,
            "retrieved_at": "2026-11-29T09:00:00+00:00",
            "permalink": None,
            "before_sha256": "b" * 64,
            "before_permalink": None,
        },
    }
    _validate(change)
    _validate(batch_object("digest", "daily", [change]))
    deadline = DeadlineRow(1, 3, "s", "2027-05-11", "11 May 2027", "It closes on 11 May 2027.", "")
    _validate(reminder_object(deadline, 7, change))
    _validate(health_object("s", "failing", "timeout"))
    _validate(probe_object("hook"))
    with pytest.raises(jsonschema.ValidationError):
        _validate({**change, "snapshot": {**change["snapshot"], "sha256": "not a hash"}})


def test_the_citation_hash_is_the_snapshot_address() -> None:
    from watcher.citation import digest
    from watcher.pipeline.observed import digest as address

    for text in ("", "Kinship care\n£250 million", "é\u202e\x00"):
        assert digest(text) == address(text)


def test_a_json_digest_and_a_test_message_validate(
    tmp_path: Path, site: PageServer, receiver: PageServer
) -> None:
    from datetime import UTC, datetime, timedelta

    from watcher.notify.deliver import Deliverer
    from watcher.store import Store

    path = _config_file(tmp_path, site.url("/kinship"), hook=True)
    path.write_text(
        path.read_text() + '[[route]]\ntargets = ["hook"]\nmode = "daily"\n', encoding="utf-8"
    )
    env = {"HOOK_URL": f"json://127.0.0.1:{receiver.port}/hook"}
    config = load_config(path, environ=env)
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    site.set("/kinship", html_page("Kinship care", PARAS))
    asyncio.run(check_once(config, clock=lambda: at))
    for n, extra in enumerate(EDITED[3:]):
        site.set("/kinship", html_page("Kinship care", [*EDITED[:3], *EDITED[3 : 4 + n]]))
        moment = at + timedelta(hours=1 + n)
        asyncio.run(check_once(config, clock=lambda moment=moment: moment))
        assert extra
    assert receiver.requests(method="POST") == []  # held for the digest
    later = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    asyncio.run(check_once(config, clock=lambda: later))
    [digest] = [json.loads(h.body) for h in receiver.requests(method="POST")]
    _validate(digest)
    assert digest["event"] == "digest" and len(digest["changes"]) == 2
    assert [c["id"] for c in digest["changes"]] == [1, 2]
    assert all(c["link"].startswith(f"{PUBLIC}/changes/") for c in digest["changes"])

    store = Store.open(config.settings.state_dir)
    try:
        sent = asyncio.run(
            Deliverer(store=store, targets={"hook": config.targets[0]}).send_test("hook")
        )
    finally:
        store.close()
    assert sent is None
    probe = json.loads(receiver.requests(method="POST")[-1].body)
    _validate(probe)
    assert probe == {
        "schema": "watcher.change.v1",
        "schema_version": 1,
        "event": "test",
        "target": "hook",
    }


def test_topics_and_story_in_the_change_object() -> None:
    """Topics as the store keeps them ((name, sentence) pairs); the story as where the change
    stands in it, linked when the web app's address is known."""
    from watcher.stories import StoryMark
    from watcher.structured import story_of, topics_of

    class Row:
        topics = (("kinship", "About kinship care."), ("funding", "£40 million."))

    assert topics_of(Row.topics) == [
        {"name": "kinship", "sentence": "About kinship care."},
        {"name": "funding", "sentence": "£40 million."},
    ]
    mark = StoryMark(4, "Kinship allowance", 2, 3)
    assert story_of(mark, "https://watcher.example/") == {
        "id": 4,
        "title": "Kinship allowance",
        "update": 2,
        "updates": 3,
        "link": "https://watcher.example/stories/4",
    }
    assert story_of(mark)["link"] is None  # type: ignore[index]
    assert topics_of(()) == [] and story_of(None) is None
