"""Rendered alerts through the real Apprise plugins: Slack to a loopback receiver, email to aiosmtpd.

Slack's webhook host cannot be reached from here, so the plugin's webhook base URL is pointed at
the local receiver; everything else (format resolution, CommonMark to mrkdwn, payload building)
is Apprise's own code, which is the point: the payload asserted is what Slack would receive.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message as EmailMessage
from pathlib import Path
from typing import Any

import apprise
import pytest
from apprise.plugins.slack import NotifySlack

from tests.conftest import PageServer, Smtp, html_page, write_config
from watcher.config import load_config
from watcher.notify.render import Message, channel_for, render_change, render_health
from watcher.rows import ChangeRow, SourceRow
from watcher.runtime import check_once
from watcher.store import Store
from watcher.store.codec import decode

HOSTILE = (
    "The fund closes on 11 May 2023. <!channel> <https://evil.example|click> "
    "<script>alert(1)</script> [win](https://evil.example) *bold* @everyone"
)
TOKENS = "T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
PARAS = [
    "The Government has published its response to the Independent Review.",
    "It commits £200 million over the next two years to begin reform.",
]


@pytest.fixture
def hostile_change(tmp_path: Path, site: PageServer) -> Iterator[ChangeRow]:
    """A change row made by the real pipeline from a loopback page whose text is hostile."""
    # Escaped in the page source, so the page's *text* holds the markup, as a defaced page would.
    title = html.escape("Stable Homes <script>x</script> <!here>")
    site.set("/page", html_page(title, PARAS))
    config = load_config(
        write_config(tmp_path / "sources.toml", [{"name": "dfe", "url": site.url("/page")}])
    )
    asyncio.run(check_once(config))
    site.set("/page", html_page(title, [*PARAS, html.escape(HOSTILE)]))
    asyncio.run(check_once(config))
    store = Store.open(config.settings.state_dir)
    try:
        changes = store.changes()
    finally:
        store.close()
    assert len(changes) == 1 and HOSTILE in changes[0].added
    yield changes[0]


def _row(columns: dict[str, Any]) -> ChangeRow:
    """A change written as its stored columns (the rest left empty), decoded as the store does."""
    empty = {"id": 1, "added": [], "removed": [], "before_hash": "", "after_hash": ""}
    return decode(ChangeRow, {**empty, "check_id": 1, **columns})


def _send(url: str, message: Message) -> bool:
    """What the outbox worker does with a Message."""
    ap = apprise.Apprise()
    assert ap.add(url)
    return bool(
        ap.notify(
            title=message.title,
            body=message.body,
            body_format=apprise.NotifyFormat(message.format),
        )
    )


@pytest.fixture
def slack(receiver: PageServer, monkeypatch: pytest.MonkeyPatch) -> PageServer:
    monkeypatch.setattr(NotifySlack, "webhook_url", receiver.url("/services"))
    receiver.set(f"/services/{TOKENS}", b"ok", headers={"Content-Type": "text/plain"})
    return receiver


def _slack_payload(receiver: PageServer) -> tuple[str, dict[str, Any]]:
    posts = receiver.requests(f"/services/{TOKENS}", "POST")
    assert len(posts) == 1
    raw = posts[0].body.decode()
    return raw, json.loads(raw)


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


@pytest.mark.parametrize("blocks", ["no", "yes"])
def test_hostile_page_is_inert_in_the_real_slack_payload(
    hostile_change: dict[str, Any], slack: PageServer, blocks: str
) -> None:
    url = f"slack://{TOKENS}/?blocks={blocks}"
    assert channel_for(url) == "slack"
    link = "http://127.0.0.1:8080/changes/7"
    assert _send(url, render_change(hostile_change, "slack", link=link))
    raw, payload = _slack_payload(slack)
    texts = "\n".join(_strings(payload))

    # Page text arrives entity-escaped exactly once: no mention, no link, no markup.
    assert "&lt;!channel&gt;" in texts and "<!channel>" not in texts
    assert "&lt;!here&gt;" in texts and "<!here>" not in texts  # from the page title
    assert "&lt;script&gt;" in texts and "<script" not in texts
    assert "<https://evil.example" not in texts and "|win>" not in texts
    assert "&amp;lt;" not in texts  # not escaped twice
    assert "@everyone" not in texts and "@\u200deveryone" in texts
    # Our own links are real mrkdwn links, and the word marks are mrkdwn bold.
    page_url = hostile_change.url
    assert f"<{page_url}|{page_url}>" in texts
    assert f"<{link}|{link}>" in texts
    assert "*Added*" in texts
    if blocks == "no":
        assert payload["mrkdwn"] is True
        assert payload["attachments"][0]["title"].startswith("[")
    else:
        section = payload["attachments"][0]["blocks"][1]["text"]
        assert section["type"] == "mrkdwn"
    # Every `<` Slack would parse opens one of our two links; nothing else is markup.
    assert set(re.findall(r"<([^|>]*)", raw)) == {page_url, link}


def test_slack_word_marks_survive_apprise(tmp_path: Path, slack: PageServer) -> None:
    change = {
        "id": 1,
        "source": "dfe",
        "url": "https://www.gov.uk/x",
        "detected_at": "2026-11-23T09:00:00.000+00:00",
        "title": "Stable Homes",
        "summary": "1 block edited",
        "category": "funding",
        "diff": [
            {
                "op": "replace",
                "before": ["It commits £200 million."],
                "after": ["It commits £250 million."],
                "words": [
                    [
                        ["equal", "It commits "],
                        ["delete", "£200"],
                        ["insert", "£250"],
                        ["equal", " million."],
                    ]
                ],
            }
        ],
        "evidence": {},
    }
    assert _send(f"slack://{TOKENS}", render_change(_row(change), "slack"))
    _, payload = _slack_payload(slack)
    text = payload["attachments"][0]["text"]
    assert "It commits ~£200~ *£250* million." in text


def _parts(msg: EmailMessage) -> dict[str, str]:
    out = {}
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            out[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
    return out


def test_hostile_page_is_inert_in_the_real_email(
    hostile_change: dict[str, Any], smtp: Smtp
) -> None:
    assert channel_for(smtp.apprise_url) == "email"
    link = "http://127.0.0.1:8080/changes/7?a=1&b=2"
    message = render_change(hostile_change, "email", link=link)
    assert _send(smtp.apprise_url, message)
    msg = smtp.sink.wait_for(1)[0]
    parts = _parts(msg)
    assert set(parts) == {"text/plain", "text/html"}  # Apprise builds multipart/alternative

    body = parts["text/html"]
    assert "<script" not in body and "&lt;script&gt;" in body
    assert 'href="https://evil.example' not in body
    assert "&lt;https://evil.example|click&gt;" in body
    # Only our two links, both http(s), the query's & attribute-escaped.
    assert body.count("<a ") == 2
    assert 'href="http://127.0.0.1:8080/changes/7?a=1&amp;b=2"' in body
    assert f'href="{hostile_change.url}"' in body
    assert "<style" not in body and "<img" not in body and "<link" not in body

    # The text part Apprise derives from the HTML reads well: evidence, marks, both URLs.
    text = parts["text/plain"]
    assert HOSTILE in text  # shown verbatim, as text
    assert "Added" in text and "+ The fund closes" in text
    assert hostile_change.url in text and link in text
    assert "<a " not in text and "style=" not in text
    # The Subject is the title: one line, the page title's markup shown as text.
    subject = str(make_header(decode_header(msg["Subject"])))
    # The category word is the classifier's (news: no event stated); the rest is the page's text.
    assert re.match(r"\[\w+\] dfe — Stable Homes <script>x</script> <!here>: closes", subject)
    assert "\n" not in subject


def test_email_word_marks_reach_the_text_part(smtp: Smtp) -> None:
    change = {
        "source": "dfe",
        "url": "https://www.gov.uk/x",
        "detected_at": "2026-11-23T09:00:00+00:00",
        "title": "Stable Homes",
        "summary": "",
        "category": "funding",
        "diff": [
            {
                "op": "replace",
                "before": ["It commits £200 million."],
                "after": ["It commits £250 million."],
                "words": [[["equal", "It commits "], ["delete", "£200"], ["insert", "£250"]]],
            }
        ],
        "evidence": {},
    }
    assert _send(smtp.apprise_url, render_change(_row(change), "email"))
    parts = _parts(smtp.sink.wait_for(1)[0])
    assert "[-£200-] {+£250+}" in parts["text/plain"]
    assert "<del " in parts["text/html"] and "<ins " in parts["text/html"]


def test_text_channel_reaches_a_json_webhook_verbatim(
    hostile_change: dict[str, Any], receiver: PageServer
) -> None:
    url = f"json://127.0.0.1:{receiver.port}/hook"
    assert channel_for(url) == "text"
    message = render_change(hostile_change, "text")
    assert _send(url, message)
    payload = json.loads(receiver.requests("/hook", "POST")[0].body)
    assert payload["title"] == message.title
    assert HOSTILE.replace("@everyone", "@\u200deveryone") in payload["message"]


def test_health_alert_escapes_error_text_in_slack(slack: PageServer) -> None:
    source = {
        "name": "dfe",
        "url": "javascript:alert(1)",
        "last_error": "HTTP 500: <!channel> <script>",
        "error_streak": 3,
        "last_success_at": None,
    }
    assert _send(
        f"slack://{TOKENS}",
        render_health(
            decode(SourceRow, {"tags": [], "added_at": "", **source}),
            "failing",
            "HTTP 500",
            "slack",
        ),
    )
    _, payload = _slack_payload(slack)
    text = payload["attachments"][0]["text"]
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert "javascript:alert" in text and "<javascript" not in text
