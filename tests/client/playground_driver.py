"""The hypercare scenario, played through Microsoft 365 Agents Playground: a Teams-like client, offline.

Run it inside a network namespace that has only loopback (the test `test_playground.py` does):

    unshare -n .venv/bin/python -m tests.client.playground_driver --out DIR

It brings up loopback, starts the Playground and the bot (`hypercare migrate` + `hypercare serve` on SQLite
in DIR), and plays the scenario, most of it through the Playground's browser-free endpoints (REST to post
a message, the conversation websocket for what the bot answers) and the parts a person's hands matter for
in the Playground's real web UI, in headless Debian Chromium driven by Playwright:

1. `raise`:    in "My Team - General", @mention the bot with a problem (UI); the prefilled issue form
               appears; the title and severity are changed in the form (UI); "Raise issue" (UI); the issue
               card replaces the form (#1, the chosen severity, "New"), and the bot also PUTs it over the
               form's message for everyone else (seen on the websocket).
2. `triage`:   `roles add me oncall` and `roles add me triage_lead` (REST, mentioning the bot, in the
               issue's thread); "Acknowledge" then "Take it" on the issue card (UI); the card updates in
               place (Acknowledged, then In progress and "Assigned to …").
3. `personal`: in personal chat (REST), raise an issue there too (a personal chat acts in its person's war
               room, the team's, where the user was seen in step raise: the form from the websocket, "Raise
               issue" as the same `adaptiveCard/action` invoke the UI sends, the form becoming the copy of
               #2), then `list` (which shows the team's issues) and `help`; `list` in the channel (REST, in the
               issue's thread) shows #1 In progress. Screenshots of the personal chat in the UI.
4. `standup`:  `standup` as a new post in the channel (UI) shows the stand-up with #1 (and #2, of the same war room).
5. `signoff`:  `resolve #1 …` (REST, in the issue's thread) asks the reporter "Is it fixed for you?" there; a new
               `standup` (UI) lists #1 under "Resolved since the last stand-up: sign off"; "Confirm" on the
               stand-up (UI, the user is a triage lead) closes #1: the stand-up is redrawn in place saying so.

Channel messages sent through REST go into the issue's thread: the Playground's UI only knows the
channel threads it started itself, and drops (with a console error "Invalid conversation id") the
bot's answers in a thread started through REST.

It takes a screenshot at each step (DIR/shots) and writes what it saw to DIR/result.json: for each step
whether it passed and, if not, where it stopped, with what was observed; the Playground's own log (its
log websocket, which carries every exchange with the bot and its status, and its warnings); the UI's log
panel; the browser's console errors; every request the browser tried to make off the machine (all
blocked); and proof of the namespace (its links, and a connection attempt to a public address).

The bot's log (stderr, with the access log) is DIR/bot.log; the Playground's recording of every request
between it and the bot is DIR/playground-recording.log. The test reads them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

from tests.client import playground_stack as stack

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
UI_TIMEOUT_MS = 15_000
BOT_TIMEOUT_S = 15.0

CHANNEL = "My Team - General"
PROBLEM = "sev1 - nobody in AP can post vendor invoices in USMF, posting profile missing"
PREFILLED_TITLE = "Nobody in AP can post vendor invoices in USMF, posting profile missing"
NEW_TITLE = "AP cannot post vendor invoices in USMF (posting profile missing)"
NEW_SEVERITY = "Sev 2 — workaround for a day, fix in days"
PERSONAL_PROBLEM = "sales order confirmations do not print in USMF, we email them by hand as a workaround"
FORM_HEADING = "Raise a hypercare issue"
HELP_HEADING = "Hypercare: the hypercare war-room bot"

STEPS = ("raise", "triage", "personal", "standup", "signoff")
SIGN_OFF_HEADING = "Resolved since the last stand-up: sign off"


def card_texts(node: Any) -> list[str]:
    """Every piece of text an Adaptive Card shows (text blocks, runs, facts, choices, action titles, values)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key in ("text", "title", "value", "label", "placeholder"):
            value = node.get(key)
            if isinstance(value, str):
                found.append(value)
        for key, value in node.items():
            if key not in ("msteams",) and isinstance(value, (dict, list)):
                found += card_texts(value)
    elif isinstance(node, list):
        for item in node:
            found += card_texts(item)
    return found


def card_of(message: dict[str, Any]) -> dict[str, Any] | None:
    for attachment in message.get("attachments") or []:
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
            content = attachment.get("content")
            return content if isinstance(content, dict) else None
    return None


def card_text(message: dict[str, Any]) -> str:
    card = card_of(message)
    return "\n".join(card_texts(card)) if card else str(message.get("text") or "")


def find_action(node: Any, verb: str) -> dict[str, Any] | None:
    if isinstance(node, dict):
        if node.get("type") == "Action.Execute" and node.get("verb") == verb:
            return node
        for value in node.values():
            found = find_action(value, verb)
            if found:
                return found
    elif isinstance(node, list):
        for item in node:
            found = find_action(item, verb)
            if found:
                return found
    return None


def input_values(node: Any) -> dict[str, str]:
    """What a client would submit from a card's inputs without the user touching them."""
    values: dict[str, str] = {}
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Input.") and isinstance(node.get("id"), str) and "value" in node:
            values[node["id"]] = str(node["value"])
        for key, value in node.items():
            if key != "actions" or not isinstance(value, list):
                values.update(input_values(value))
    elif isinstance(node, list):
        for item in node:
            values.update(input_values(item))
    return values


class StepFailed(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


class Scenario:
    def __init__(self, out: Path, shots: Path | None = None) -> None:
        self.out = out
        self.shots = shots or out / "shots"
        self.shots.mkdir(parents=True, exist_ok=True)
        self.t0 = time.monotonic()
        self.result: dict[str, Any] = {
            "out": str(out),
            "shots_dir": str(self.shots),
            "setup": {"ok": False},
            "steps": {name: {"ok": False, "error": "not run", "observed": {}, "shots": []} for name in STEPS},
            "timings": {},
            "playground_log": [],
            "ui_log_panel": [],
            "console": [],
            "blocked_requests": [],
            "page_errors": [],
        }
        self.frames: list[dict[str, Any]] = []
        self.frames_changed = asyncio.Condition()
        self.shot_number = 0
        self.session: aiohttp.ClientSession | None = None
        self.config: dict[str, Any] = {}
        self.user: stack.PlaygroundUser | None = None
        self.page: Any = None
        self.issue_card: Any = None
        self.issue_thread: str | None = None

    # -- bookkeeping ------------------------------------------------------------------------

    def log(self, message: str) -> None:
        print(f"[{time.monotonic() - self.t0:6.2f}s] {message}", flush=True)

    def mark(self, name: str) -> None:
        self.result["timings"][name] = round(time.monotonic() - self.t0, 2)

    def save(self) -> None:
        (self.out / "result.json").write_text(json.dumps(self.result, indent=2, ensure_ascii=False))

    async def step(self, name: str, body: Callable[[dict[str, Any]], Awaitable[None]], *, needs: tuple[str, ...] = ()) -> None:
        """Run one step; a failure is recorded (with a screenshot) and the run goes on with the next."""
        record = self.result["steps"][name]
        record.update(ok=False, error=None)
        started = time.monotonic()
        self.log(f"step {name}")
        missing = [n for n in needs if not self.result["steps"][n]["ok"]]
        try:
            if missing:
                raise StepFailed(f"not run: it needs step(s) {', '.join(missing)}, which failed")
            await body(record["observed"])
            record["ok"] = True
        except Exception as error:  # noqa: BLE001 - every failure of a step is recorded, and the run goes on
            record["error"] = f"{type(error).__name__}: {error}"
            record["traceback"] = traceback.format_exc()
            self.log(f"step {name} FAILED: {record['error'][:500]}")
            if self.page is not None and not missing:
                await self.screenshot(name, "failed")
        finally:
            record["seconds"] = round(time.monotonic() - started, 2)
            self.save()

    async def show(self, locator: Any) -> None:
        """Scroll the chat so that the card is in view: centred when it fits, else from its top."""
        await locator.evaluate(
            "e => e.scrollIntoView({block: e.getBoundingClientRect().height < window.innerHeight - 200 ? 'center' : 'start'})"
        )

    async def screenshot(self, step: str, what: str) -> None:
        self.shot_number += 1
        path = self.shots / f"{self.shot_number:02d}-{step}-{what}.png"
        try:
            await self.page.screenshot(path=str(path))
            self.result["steps"][step]["shots"].append(str(path))
        except Exception as error:  # noqa: BLE001 - a missing picture must not hide the step's own result
            self.log(f"screenshot {path.name} failed: {error}")

    # -- the Playground's conversation websocket and REST ------------------------------------

    async def read_frames(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            frame = json.loads(message.data)
            async with self.frames_changed:
                self.frames.append(frame)
                self.frames_changed.notify_all()

    async def read_log(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            item = json.loads(message.data)
            self.result["playground_log"].append(item.get("log", item))

    async def wait_frame(self, what: str, match: Callable[[dict[str, Any]], bool], *, since: int = 0) -> dict[str, Any]:
        """The first websocket frame from position `since` on that `match`es, waiting for it if need be."""
        deadline = time.monotonic() + BOT_TIMEOUT_S
        async with self.frames_changed:
            while True:
                for frame in self.frames[since:]:
                    if match(frame):
                        return frame
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [
                        {"action": f.get("action"), "conversation": f.get("actionConversationId"), "text": card_text(f.get("message") or {})[:300]}
                        for f in self.frames[since:]
                    ]
                    raise StepFailed(f"no bot message: {what} within {BOT_TIMEOUT_S:.0f} s; frames since: {json.dumps(seen)[:3000]}")
                try:
                    await asyncio.wait_for(self.frames_changed.wait(), timeout=remaining)
                except asyncio.TimeoutError:
                    pass

    async def post_message(self, conversation_id: str, text: str, *, mention_bot: bool) -> tuple[str, int]:
        """Post as the Playground's user (as its UI does); the new message id and the frame position before it."""
        assert self.session is not None
        bot = self.config["config"]["bot"]
        body: dict[str, Any] = {"type": "text", "text": text, "textFormat": "plain", "from": {"id": self.config["config"]["currentUser"]["id"]}}
        if mention_bot:
            tag = f"<at>{bot['name']}</at>"
            body["text"] = f"{tag} {text}"
            body["mentions"] = [{"mentioned": {"id": bot["id"], "name": bot["name"]}, "text": tag}]
        since = len(self.frames)
        url = f"{stack.playground_url()}/_conversation/v1/conversations/{quote(conversation_id, safe='')}/messages"
        async with self.session.post(url, json=body) as response:
            answer = await response.text()
            check(response.status // 100 == 2, f"the Playground answered {response.status} to posting {text!r}: {answer[:500]}")
            return str(json.loads(answer)["messageId"]), since

    async def reply_to(self, conversation_id: str, text: str, *, mention_bot: bool, expect: str) -> dict[str, Any]:
        """Post `text` and return the bot's first card answer that contains `expect`."""
        message_id, since = await self.post_message(conversation_id, text, mention_bot=mention_bot)
        # A new channel post starts a thread, "<channel>;messageid=<post>", where the bot answers.
        where = {conversation_id} if ";messageid=" in conversation_id else {conversation_id, f"{conversation_id};messageid={message_id}"}

        def answers(frame: dict[str, Any]) -> bool:
            message = frame.get("message") or {}
            return (
                frame.get("action") == "createMessage"
                and frame.get("actionConversationId") in where
                and (message.get("from") or {}).get("id") == self.config["config"]["bot"]["id"]
                and expect in card_text(message)
            )

        frame = await self.wait_frame(f"an answer to {text!r} containing {expect!r}", answers, since=since)
        return frame

    async def invoke(self, conversation_id: str, reply_to_id: str, action: dict[str, Any], data: dict[str, Any]) -> tuple[int, Any]:
        """Press an Action.Execute button the way the Playground's UI does (an `adaptiveCard/action` invoke)."""
        assert self.session is not None
        body = {
            "name": "adaptiveCard/action",
            "value": {"action": {"type": "Action.Execute", "title": action.get("title"), "verb": action.get("verb"), "data": data}},
            "from": {"id": self.config["config"]["currentUser"]["id"]},
            "conversation": {"id": conversation_id},
            "replyToId": reply_to_id,
        }
        async with self.session.post(f"{stack.playground_url()}/_conversation/v1/invoke", json=body) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, text

    # -- the UI -----------------------------------------------------------------------------

    def card(self, text: str) -> Any:
        """The Adaptive Card on screen (the outermost one of a message) that shows `text`."""
        return self.page.locator(".ac-preview-panel").filter(has_text=text)

    async def open_conversation(self, name: str) -> None:
        """Select a chat or channel in the UI's list, and make sure it is the one shown."""
        from playwright.async_api import expect

        in_channel = name == CHANNEL
        new_post = self.page.get_by_text("Start a new post")
        deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
        while True:
            await self.page.get_by_role("treeitem", name=name).click()
            try:
                if in_channel:
                    await expect(new_post).to_be_visible(timeout=2000)
                else:
                    await expect(new_post).to_have_count(0, timeout=2000)
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise StepFailed(f"the UI does not show {name!r} after clicking it") from None

    async def wait_until_ui_started(self) -> None:
        """Once loaded, the UI opens the personal chat and introduces the bot to it (installationUpdate,
        conversationUpdate); a conversation clicked before that would be switched away from."""
        personal = self.config["config"]["personalChat"]["id"]
        deadline = time.monotonic() + 20

        def introduced() -> bool:
            return any(
                item.get("type") == "bot" and item.get("activityName") == "conversationUpdate" and item.get("conversationId") == personal
                for item in self.result["playground_log"]
            )

        while not introduced():
            if time.monotonic() > deadline:
                raise StepFailed("the Playground's UI did not introduce the bot to the personal chat within 20 s")
            await asyncio.sleep(0.05)

    async def type_message(self, text: str, *, mention_bot: bool) -> None:
        """Type and send a message; in a channel, as a new post (the box at the top)."""
        page = self.page
        box = page.locator('[data-lexical-editor="true"]').first
        await box.click()
        if mention_bot:
            # As in Teams: type @ and the bot's name, and pick it from the menu.
            await page.keyboard.type("@Test")
            await page.get_by_role("menuitem", name=self.config["config"]["bot"]["name"]).click()
            await page.keyboard.type(" ")
        await page.keyboard.insert_text(text)
        await page.keyboard.press("Enter")

    async def ui_log_panel(self) -> list[str]:
        """The lines of the UI's log panel (it also shows the client's own warnings)."""
        text = await self.page.evaluate(
            """() => {
                const heading = [...document.querySelectorAll('span,div')].find(e => e.textContent.trim() === 'Log Panel');
                let node = heading;
                while (node && !(node.innerText || '').includes('Click on a log item')) node = node.parentElement;
                return node ? node.innerText : '';
            }"""
        )
        return [line for line in str(text).splitlines() if line.strip()]

    # -- the scenario -----------------------------------------------------------------------

    async def raise_issue(self, seen: dict[str, Any]) -> None:
        from playwright.async_api import expect

        page = self.page
        await self.open_conversation(CHANNEL)
        await self.type_message(PROBLEM, mention_bot=True)
        form = self.card(FORM_HEADING)
        await expect(form).to_have_count(1, timeout=UI_TIMEOUT_MS)
        await expect(form).to_be_visible()
        title = form.get_by_label("Title")
        severity = form.get_by_role("combobox", name="Severity")
        seen["prefilled"] = {
            "title": await title.input_value(),
            "severity": await severity.input_value(),
            "legal_entity": await form.get_by_label("Legal entity").input_value(),
        }
        self.mark("form_shown")
        await self.show(form)
        await self.screenshot("raise", "form-prefilled")
        check(seen["prefilled"]["title"] == PREFILLED_TITLE, f"prefilled title {seen['prefilled']['title']!r}, expected {PREFILLED_TITLE!r}")
        check(seen["prefilled"]["severity"].startswith("Sev 1"), f"prefilled severity {seen['prefilled']['severity']!r}, expected Sev 1")
        check(seen["prefilled"]["legal_entity"] == "USMF", f"prefilled legal entity {seen['prefilled']['legal_entity']!r}")

        # Correct the form as a person would: a better title, and a lower severity (there is a workaround).
        await title.fill(NEW_TITLE)
        await severity.click()
        await page.get_by_role("option", name=NEW_SEVERITY).click()
        await expect(severity).to_have_value(NEW_SEVERITY)
        await self.screenshot("raise", "form-edited")
        frames_before = len(self.frames)
        await form.get_by_role("button", name="Raise issue").click()

        card = self.card(NEW_TITLE)
        await expect(card).to_have_count(1, timeout=UI_TIMEOUT_MS)
        await expect(card).to_contain_text("#1")
        await expect(card).to_contain_text("Sev 2")
        await expect(card).to_contain_text("New")
        await expect(card.get_by_role("button", name="Acknowledge")).to_be_visible()
        # Replaced in place: the form is gone, not left above a new message.
        await expect(self.card(FORM_HEADING)).to_have_count(0, timeout=UI_TIMEOUT_MS)
        seen["card_text"] = await card.inner_text()
        self.issue_card = card
        self.mark("issue_card_shown")
        await self.show(card)
        await self.screenshot("raise", "issue-card")

        # Everyone else in the channel gets the card too: the bot PUTs it over the form's message.
        update = await self.wait_frame(
            "the issue card PUT over the form (updateMessage)",
            lambda f: f.get("action") == "updateMessage" and NEW_TITLE in card_text(f.get("message") or {}),
            since=frames_before,
        )
        self.issue_thread = update.get("actionConversationId")
        seen["update_for_everyone"] = {"conversation": self.issue_thread, "message_id": (update.get("message") or {}).get("messageId")}
        text = card_text(update["message"])
        check("#1" in text and "Sev 2" in text and "New" in text, f"the card PUT for everyone does not show #1, Sev 2, New: {text[:500]}")

    async def triage(self, seen: dict[str, Any]) -> None:
        from playwright.async_api import expect

        # Replies in the issue's thread (the UI shows only threads it started itself).
        assert self.issue_thread is not None
        for role in ("oncall", "triage_lead"):
            frame = await self.reply_to(self.issue_thread, f"roles add me {role}", mention_bot=True, expect=f"({role})")
            seen[f"roles add me {role}"] = card_text(frame["message"])
        card = self.issue_card
        await expect(self.page.get_by_text("(triage_lead)")).to_be_visible()
        await self.screenshot("triage", "roles-given")

        await self.show(card)
        await card.get_by_role("button", name="Acknowledge").click()
        await expect(card).to_contain_text("Acknowledged", timeout=UI_TIMEOUT_MS)
        await expect(card).to_contain_text("Acknowledged by")
        await expect(card.get_by_role("button", name="Acknowledge")).to_have_count(0)
        seen["after_acknowledge"] = await card.inner_text()
        self.mark("acknowledged")
        await self.show(card)
        await self.screenshot("triage", "acknowledged")

        await card.get_by_role("button", name="Take it").click()
        await expect(card).to_contain_text("In progress", timeout=UI_TIMEOUT_MS)
        await expect(card).to_contain_text("Assigned to")
        seen["after_take_it"] = await card.inner_text()
        self.mark("taken")
        await self.show(card)
        await self.screenshot("triage", "taken")
        name = self.config["config"]["currentUser"]["name"]
        check(f"Assigned to {name}" in seen["after_take_it"], f"the card does not say 'Assigned to {name}': {seen['after_take_it'][:800]}")
        check("<at>" not in seen["after_take_it"], f"a raw <at> tag shows on the card: {seen['after_take_it'][:800]}")

    async def personal(self, seen: dict[str, Any]) -> None:
        from playwright.async_api import expect

        personal = self.config["config"]["personalChat"]["id"]
        # Personal chat acts in the team's war room (the user was seen there): raise an issue, browser-free.
        form_frame = await self.reply_to(personal, PERSONAL_PROBLEM, mention_bot=False, expect=FORM_HEADING)
        form = card_of(form_frame["message"])
        assert form is not None
        action = find_action(form, "issue.create")
        check(action is not None, "the personal-chat issue form has no Action.Execute issue.create")
        assert action is not None
        data = {**(action.get("data") or {}), **input_values(form)}
        seen["personal_form_values"] = data
        check(bool(data.get("title")) and bool(data.get("severity")), f"the form came prefilled without title or severity: {data}")
        since = len(self.frames)
        status, answer = await self.invoke(personal, str(form_frame["message"]["messageId"]), action, data)
        seen["personal_raise_invoke"] = {"status": status, "answer_text": card_text({"attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": _invoke_card(answer)}]})[:1000]}
        check(status // 100 == 2, f"the Playground answered {status} to the Raise issue invoke: {str(answer)[:800]}")
        await self.wait_frame(
            "the copy of the issue card (#2 of the team's war room) over the form",
            lambda f: f.get("action") == "updateMessage" and f.get("actionConversationId") == personal and "#2" in card_text(f.get("message") or {}),
            since=since,
        )

        listed = await self.reply_to(personal, "list", mention_bot=False, expect="Issues")
        seen["personal_list"] = card_text(listed["message"])
        check("#1" in seen["personal_list"], f"`list` in personal chat does not show its issue #1: {seen['personal_list'][:800]}")
        helped = await self.reply_to(personal, "help", mention_bot=False, expect=HELP_HEADING)
        seen["personal_help"] = card_text(helped["message"])
        # What a person sees: the personal chat, with the list and the help card.
        await self.open_conversation("Personal Chat")
        help_card = self.card(HELP_HEADING).last
        await expect(help_card).to_be_visible(timeout=UI_TIMEOUT_MS)
        list_card = self.card("Issues open now").last
        await expect(list_card).to_contain_text("#1")
        await self.show(list_card)
        await self.screenshot("personal", "list")
        await self.show(help_card)
        await self.screenshot("personal", "help")

        # The channel's war room: its list shows #1 as it is now (asked in the issue's thread, see triage).
        check(self.issue_thread is not None, "`list` in the channel not tried: the issue was not raised there (step raise)")
        assert self.issue_thread is not None
        channel_list = await self.reply_to(self.issue_thread, "list", mention_bot=True, expect="Issues")
        seen["channel_list"] = card_text(channel_list["message"])
        check(NEW_TITLE in seen["channel_list"], f"`list` in the channel does not show {NEW_TITLE!r}: {seen['channel_list'][:800]}")
        check("In progress" in seen["channel_list"], f"`list` in the channel does not show #1 In progress: {seen['channel_list'][:800]}")

    async def standup(self, seen: dict[str, Any]) -> None:
        from playwright.async_api import expect

        channel = self.config["config"]["teams"][0]["channels"][0]["id"]
        await self.open_conversation(CHANNEL)
        since = len(self.frames)
        await self.type_message("standup", mention_bot=True)  # a new post in the channel, typed in the UI
        frame = await self.wait_frame(
            "the stand-up, in the new post's thread",
            lambda f: f.get("action") == "createMessage"
            and str(f.get("actionConversationId", "")).startswith(f"{channel};messageid=")
            and f.get("actionConversationId") != self.issue_thread
            and "Hypercare stand-up" in card_text(f.get("message") or {}),
            since=since,
        )
        seen["standup"] = card_text(frame["message"])
        check(NEW_TITLE in seen["standup"], f"the stand-up does not list #1 {NEW_TITLE!r}: {seen['standup'][:1000]}")
        # #1 from the channel and #2 raised in personal chat: one war room.
        check("Open now: **2**" in seen["standup"], f"the stand-up does not count 2 open issues: {seen['standup'][:1000]}")
        card = self.card("Hypercare stand-up").last
        await expect(card).to_be_visible(timeout=UI_TIMEOUT_MS)
        await expect(card).to_contain_text(NEW_TITLE)
        await self.show(card)
        await self.screenshot("standup", "standup")

    async def signoff(self, seen: dict[str, Any]) -> None:
        """A triage lead signs off #1's resolution on the stand-up, through the UI."""
        from playwright.async_api import expect

        assert self.issue_thread is not None
        since = len(self.frames)
        resolved = await self.reply_to(self.issue_thread, "resolve #1 Recreated the vendor posting profile for USMF", mention_bot=True,
                                       expect="#1 resolved.")
        seen["resolved"] = card_text(resolved["message"])
        question = await self.wait_frame(
            "the reporter asked in the issue's thread whether it is fixed",
            lambda f: f.get("action") == "createMessage" and f.get("actionConversationId") == self.issue_thread
            and "Is it fixed for you?" in card_text(f.get("message") or {}),
            since=since,
        )
        seen["question"] = card_text(question["message"])

        await self.open_conversation(CHANNEL)
        since = len(self.frames)
        await self.type_message("standup", mention_bot=True)
        frame = await self.wait_frame(
            "the stand-up with #1 to sign off",
            lambda f: f.get("action") == "createMessage" and SIGN_OFF_HEADING in card_text(f.get("message") or {})
            and "signoff.confirm" in json.dumps(f.get("message") or {}),
            since=since,
        )
        seen["standup"] = card_text(frame["message"])
        # The earlier stand-up (step standup) shows the section too, empty: this one is the stand-up with #1 waiting.
        stand_ups = self.card(SIGN_OFF_HEADING)
        await expect(stand_ups.filter(has_text="awaiting confirmation")).to_have_count(1, timeout=UI_TIMEOUT_MS)
        texts = await stand_ups.all_inner_texts()
        card = stand_ups.nth(next(n for n, text in enumerate(texts) if "awaiting confirmation" in text))
        await expect(card).to_be_visible()
        await self.show(card)
        await self.screenshot("signoff", "standup-to-sign-off")

        await card.get_by_role("button", name="Confirm", exact=True).click()
        await expect(card).to_contain_text("#1 confirmed fixed and closed by", timeout=UI_TIMEOUT_MS)
        await expect(card.get_by_role("button", name="Confirm", exact=True)).to_have_count(0)
        seen["after_confirm"] = await card.inner_text()
        self.mark("signed_off")
        await self.show(card)
        await self.screenshot("signoff", "confirmed")

    # -- the whole run ----------------------------------------------------------------------

    async def isolation(self) -> dict[str, Any]:
        """Proof that this runs where nothing can leave the machine."""
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        attempt = "connected"
        try:
            with socket.create_connection(("192.0.2.1", 443), timeout=2):  # TEST-NET-1: never a real host
                pass
        except OSError as error:
            attempt = f"{type(error).__name__}: {error}"
        names = [line.split(":")[1].strip().split("@")[0] for line in links.splitlines() if ":" in line]
        return {"links": links, "interfaces": names, "external_connect": attempt}

    async def open_page(self, browser_starting: Awaitable[Any]) -> Any:
        """The Playground's web UI in headless Chromium; every request off loopback is blocked (and noted)."""
        browser = await browser_starting
        context = await browser.new_context(viewport={"width": 1400, "height": 1100})

        async def loopback_only(route: Any) -> None:
            url = route.request.url
            host = url.split("/")[2].rsplit(":", 1)[0] if "://" in url else ""
            if url.startswith(("data:", "blob:")) or host in LOOPBACK:
                await route.continue_()
            else:
                self.result["blocked_requests"].append(url)
                await route.abort()

        await context.route("**/*", loopback_only)
        page = await context.new_page()
        page.set_default_timeout(UI_TIMEOUT_MS)
        page.on("console", lambda m: m.type in ("error", "warning") and self.result["console"].append(
            {"type": m.type, "text": m.text[:1000], "url": (m.location or {}).get("url", "")}
        ))
        page.on("pageerror", lambda e: self.result["page_errors"].append(str(e)[:1000]))
        # The page waits (the Playground's config call) until the bot's endpoint answers.
        await page.goto(stack.playground_url() + "/", wait_until="domcontentloaded")
        await page.get_by_role("treeitem", name=CHANNEL).wait_for(timeout=30_000)
        return browser, page

    async def run(self) -> int:
        from playwright.async_api import async_playwright

        processes: list[subprocess.Popen[bytes]] = []
        readers: list[asyncio.Task[None]] = []
        try:
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True, capture_output=True)
            self.result["network"] = await self.isolation()
            async with aiohttp.ClientSession() as session, async_playwright() as playwright:
                self.session = session
                database = f"sqlite+aiosqlite:///{self.out / 'hc.db'}"
                # Meanwhile: the schema (it needs no admins) and the browser.
                migrating = asyncio.ensure_future(
                    asyncio.to_thread(stack.migrate, stack.bot_environment(database, "", hermetic=True), self.out)
                )
                browser_starting = asyncio.ensure_future(
                    playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                )
                async with stack.StandIn() as stand_in:
                    playground = stack.start_playground(self.out / "playground", recording=self.out / "playground-recording.log")
                    processes.append(playground)
                    await stack.wait_for_playground(session, playground)
                    self.mark("playground_up")
                    # First, before the browser: the Playground sends what it buffered to its first client only.
                    base = f"ws://{stack.HOST}:{stack.PLAYGROUND_PORT}"
                    log_ws = await session.ws_connect(f"{base}/_ws/log/stream")
                    conversation_ws = await session.ws_connect(f"{base}/_ws_conversation/v1/conversations/stream")
                    readers += [asyncio.create_task(self.read_log(log_ws)), asyncio.create_task(self.read_frames(conversation_ws))]
                    self.user, self.config = await stack.discover_user(session, stand_in)
                self.result["user"] = {"id": self.user.id, "name": self.user.name, "aad_object_id": self.user.aad_object_id}
                self.result["playground_config"] = self.config
                await migrating
                self.mark("migrated")
                env = stack.bot_environment(database, self.user.aad_object_id, scheduler_interval="1", hermetic=True)
                env["HYPERCARE_LOG_LEVEL"] = "INFO"  # the access log is read by the test
                bot = stack.start_bot(env, self.out, log=self.out / "bot.log")
                processes.append(bot)
                page_opening = asyncio.ensure_future(self.open_page(browser_starting))
                try:
                    await stack.wait_for_bot(session, bot)
                    self.mark("bot_up")
                finally:
                    browser, self.page = await page_opening
                await self.wait_until_ui_started()
                self.mark("ui_loaded")
                self.result["setup"] = {"ok": True}
                self.save()

                await self.step("raise", self.raise_issue)
                await self.step("triage", self.triage, needs=("raise",))
                await self.step("personal", self.personal)
                await self.step("standup", self.standup, needs=("raise",))
                await self.step("signoff", self.signoff, needs=("raise", "triage"))
                self.mark("scenario_done")

                await asyncio.sleep(0.3)  # the last exchanges reach the log
                try:
                    self.result["ui_log_panel"] = await self.ui_log_panel()
                except Exception as error:  # noqa: BLE001
                    self.result["ui_log_panel"] = [f"(could not read the log panel: {error})"]
                await browser.close()
                await log_ws.close()
                await conversation_ws.close()
        except Exception as error:  # noqa: BLE001 - written to the result for the test to show
            if not self.result["setup"].get("ok"):
                self.result["setup"] = {"ok": False, "error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
            else:
                self.result["crash"] = {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
            self.log(f"run failed: {error}")
        finally:
            for task in readers:
                task.cancel()
            stack.stop(*reversed(processes))
            self.mark("stopped")
            self.result["frames"] = self.frames
            self.save()
        return 0 if self.result["setup"].get("ok") and "crash" not in self.result else 1


def _invoke_card(answer: Any) -> Any:
    """The card in an `adaptiveCard/action` answer as the Playground returns it (shapes vary), or {}."""
    if isinstance(answer, dict):
        for key in ("value", "body"):
            inner = answer.get(key)
            if isinstance(inner, dict):
                if inner.get("type") == "AdaptiveCard":
                    return inner
                found = _invoke_card(inner)
                if found:
                    return found
    return {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for result.json, logs and the database")
    parser.add_argument("--shots", help="folder for the screenshots (default: OUT/shots)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    return asyncio.run(Scenario(out, Path(args.shots) if args.shots else None).run())


if __name__ == "__main__":
    sys.exit(main())
