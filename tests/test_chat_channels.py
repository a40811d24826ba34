"""Chat services beyond Slack: page text can raise no mention, tag or link in Mattermost, Discord,
Teams, Telegram or Matrix. A table per channel over the pure renderer, then the real Apprise
plugins for Mattermost and Discord posting to a loopback receiver."""

from __future__ import annotations

import json
from typing import Any

import apprise
import pytest
from apprise.plugins.discord import NotifyDiscord

from tests.conftest import PageServer
from tests.test_render import added, change
from watcher.config import FORMATS
from watcher.notify.render import CHANNELS, CHAT_CHANNELS, ZWJ, chat_text, render_change

# (page text, what must not reach the service, a word that must still be readable)
HOSTILE = [
    ("<!channel> now", "<!channel>", "channel"),
    ("<!here> now", "<!here>", "here"),
    ("<!everyone> now", "<!everyone>", "everyone"),
    ("ping @all today", "@all", "all"),
    ("ping @channel today", "@channel", "channel"),
    ("ping @here today", "@here", "here"),
    ("ping @everyone today", "@everyone", "everyone"),
    ("ping @room today", "@room", "room"),
    ("ping @jsmith today", "@jsmith", "jsmith"),
    ("<https://evil.test|Click me>", "<https://evil.test|", "Click me"),
    ("[Click me](https://evil.test)", "[Click me](", "Click me"),
    ("<@123456789> and <@!42>", "<@", "123456789"),
    ("<@&987654321> role", "<@&", "987654321"),
    ("<#555> channel", "<#", "555"),
    ("<at>Someone</at> hello", "<at>", "Someone"),
    ("<script>alert(1)</script>", "<script>", "alert"),
    ("<b>bold</b>", "<b>", "bold"),
    ("||spoiler|| text", "||spoiler||", "spoiler"),
    ("**not ours** text", "**not ours**", "not ours"),
]
MARKDOWN_SPECIALS = "[]()*_~`|#!"
# Markdown syntax only: inert in Matrix, which is sent (and shown as) plain text.
MARKDOWN_ONLY = {"[Click me](", "||spoiler||", "**not ours**"}


def test_config_accepts_every_channel_as_a_format() -> None:
    assert set(FORMATS) == {*CHANNELS, "json"}  # json: the change as data, not a channel


@pytest.mark.parametrize("channel", CHAT_CHANNELS)
@pytest.mark.parametrize(("text", "forbidden", "readable"), HOSTILE)
def test_page_text_raises_no_mention_tag_or_link(
    channel: str, text: str, forbidden: str, readable: str
) -> None:
    row = change(title=f"Title {text}", summary=text, diff=added(text))
    message = render_change(row, channel, link="https://watcher.example.org/changes/7")
    for part in (message.title, message.body):
        if channel == "matrix" and forbidden in MARKDOWN_ONLY:
            continue
        assert forbidden not in part, (channel, part)
        assert "<" not in part.replace("<https://", "")  # only our own link's angle bracket
    assert readable in message.body.replace("\\", "")
    assert "@" not in message.body.replace("@" + ZWJ, "")


@pytest.mark.parametrize("channel", CHAT_CHANNELS)
def test_our_own_links_stay_links(channel: str) -> None:
    link = "https://watcher.example.org/changes/7"
    body = render_change(change(), channel, link=link).body
    if channel == "matrix":
        assert link in body  # plain text: clients link a bare URL themselves
    else:
        assert f"(<{link}>)" in body  # a Markdown link of ours, the only one in the body


@pytest.mark.parametrize("char", list(MARKDOWN_SPECIALS))
def test_every_markdown_special_is_escaped_for_markdown_chats(char: str) -> None:
    assert chat_text(f"a{char}b") == f"a\\{char}b"
    assert chat_text(f"a{char}b", markdown=False) == f"a{char}b"


# --- the real plugins -----------------------------------------------------------------------------


def _send(url: str, channel: str, text: str) -> None:
    row = change(title=f"Title {text}", summary=text, diff=added(text))
    message = render_change(row, channel)
    ap = apprise.Apprise()
    assert ap.add(url)
    assert ap.notify(
        title=message.title, body=message.body, body_format=apprise.NotifyFormat(message.format)
    )


def _payload_text(receiver: PageServer, path: str) -> str:
    posts = receiver.requests(path, "POST")
    assert len(posts) == 1
    payload: dict[str, Any] = json.loads(posts[0].body)
    return json.dumps(payload, ensure_ascii=False)


ALL_HOSTILE = " ".join(text for text, _, _ in HOSTILE)


def test_the_real_mattermost_payload_is_inert(receiver: PageServer) -> None:
    receiver.set("/hooks/abcdefghijklmnop", b"ok", headers={"Content-Type": "text/plain"})
    url = f"mmost://127.0.0.1:{receiver.port}/abcdefghijklmnop"
    _send(url, "mattermost", ALL_HOSTILE)
    sent = json.loads(_payload_text(receiver, "/hooks/abcdefghijklmnop"))["text"]
    for _, forbidden, _ in HOSTILE:
        assert forbidden not in sent, (forbidden, sent)


def test_the_real_discord_payload_is_inert(
    receiver: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(NotifyDiscord, "notify_url", receiver.url("/api/webhooks"))
    receiver.set(
        "/api/webhooks/123456/tokenABC", b"{}", headers={"Content-Type": "application/json"}
    )
    _send("discord://123456/tokenABC", "discord", ALL_HOSTILE)
    sent = _payload_text(receiver, "/api/webhooks/123456/tokenABC")
    payload = json.loads(sent)
    content = payload.get("content", "") + json.dumps(payload.get("embeds", []))
    for _, forbidden, _ in HOSTILE:
        assert forbidden not in content, (forbidden, content)
