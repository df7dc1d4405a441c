"""A fake Bot Connector: an aiohttp server at the activities' serviceUrl recording every call the bot makes."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

from aiohttp import web


@dataclass(frozen=True)
class RecordedCall:
    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    body: Any
    headers: dict[str, str]
    # The id the fake gave the posted message (what the bot later updates in place).
    sent_id: str | None = None

    @property
    def card(self) -> dict[str, Any] | None:
        """The adaptive card this call posts, if it posts one."""
        attachments = (self.body or {}).get("attachments") or []
        for attachment in attachments:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment["content"]
        return None


@dataclass
class ScriptedFailure:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


class FakeConnector:
    def __init__(self, host: str = "127.0.0.1") -> None:
        """`host`: another loopback address (127.0.0.2) stands for a server that is not a Bot Connector."""
        self.host = host
        self.calls: list[RecordedCall] = []
        self.failed_attempts: list[RecordedCall] = []
        self._failures: list[ScriptedFailure] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""
        # The team's members, as GET .../members/{id} and .../pagedmembers answer them (for any conversation not in
        # `rosters`); `rosters`: the members of other teams or chats, by team or chat id.
        self.members: list[dict[str, str]] = []
        self.rosters: dict[str, list[dict[str, str]]] = {}
        # How many members a page of .../pagedmembers holds (Teams: up to 500, as asked by `pageSize`).
        self.page_size = 500
        # The conversation ids whose members were listed, one per page asked for.
        self.roster_reads: list[str] = []
        # The user ids asked for by GET .../members/{id}, in order (kept apart from `calls`, which are what the bot sends).
        self.member_lookups: list[str] = []
        self._released = asyncio.Event()
        # Set once a call scripted to hang (status 0) is waiting.
        self.holding = asyncio.Event()

    def fail_next(self, status: int, *, times: int = 1, headers: dict[str, str] | None = None) -> None:
        """Answer the next `times` calls with `status` (e.g. 429 with Retry-After, 503, 403); 0 hangs until `release()`."""
        self._failures += [ScriptedFailure(status, headers or {}) for _ in range(times)]

    def release(self) -> None:
        """Let the calls that hang answer now (503)."""
        self._released.set()

    def application(self) -> web.Application:
        """The Bot Connector API at the root of the server and under a region and tenant, as in Teams' service
        URLs (`https://smba.trafficmanager.net/emea/{tenant id}/`). `start` serves it; a caller may serve it itself."""
        app = web.Application()
        for root in ("", "/{region}/{tenant}"):
            app.router.add_route("*", root + "/v3/conversations/{conversation}/activities", self._handle)
            app.router.add_route("*", root + "/v3/conversations/{conversation}/activities/{activity}", self._handle)
            app.router.add_post(root + "/v3/conversations", self._new_conversation)
            app.router.add_get(root + "/v3/conversations/{conversation}/members/{user}", self._member)
            app.router.add_get(root + "/v3/conversations/{conversation}/pagedmembers", self._paged_members)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self.application())
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        self.url = f"http://{self.host}:{self._runner.addresses[0][1]}/"

    async def stop(self) -> None:
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _scripted(self, call: RecordedCall) -> web.Response | None:
        """The next scripted failure, if any: an error status, or (status 0) no answer until the fake stops."""
        if not self._failures:
            return None
        failure = self._failures.pop(0)
        self.failed_attempts.append(call)
        if failure.status == 0:
            self.holding.set()
            await self._released.wait()
        return web.json_response({"error": {"code": "scripted"}}, status=failure.status or 503, headers=failure.headers)

    async def _new_conversation(self, request: web.Request) -> web.Response:
        """A new thread in a channel: Teams answers with the thread's conversation id and the post's id."""
        body = await request.json()
        channel = body["channelData"]["channel"]["id"]
        call = RecordedCall(
            method="POST", path=request.path, conversation_id=channel, activity_id=None, body=body["activity"],
            headers=dict(request.headers),
        )
        scripted = await self._scripted(call)
        if scripted is not None:
            return scripted
        post_id = f"post-{next(self._ids)}"
        self.calls.append(replace(call, sent_id=post_id))
        return web.json_response({"id": f"{channel};messageid={post_id}", "activityId": post_id})

    def _roster(self, request: web.Request) -> list[dict[str, str]]:
        return self.rosters.get(unquote(request.match_info["conversation"]).split(";", 1)[0], self.members)

    async def _member(self, request: web.Request) -> web.Response:
        wanted = unquote(request.match_info["user"])
        self.member_lookups.append(wanted)
        for member in self._roster(request):
            if wanted in (member["id"], member["aadObjectId"]):
                return web.json_response(member)
        return web.json_response({"error": {"code": "MemberNotFoundInConversation"}}, status=404)

    async def _paged_members(self, request: web.Request) -> web.Response:
        """A page of the members; `continuationToken` (here: where the next page starts) while more remain."""
        self.roster_reads.append(unquote(request.match_info["conversation"]))
        members = self._roster(request)
        start = int(request.query.get("continuationToken", "0"))
        end = start + min(self.page_size, int(request.query.get("pageSize", "500")))
        page: dict[str, object] = {"members": members[start:end]}
        if end < len(members):
            page["continuationToken"] = str(end)
        return web.json_response(page)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        activity = request.match_info.get("activity")
        call = RecordedCall(
            method=request.method,
            path=request.path,
            conversation_id=unquote(request.match_info["conversation"]),
            activity_id=unquote(activity) if activity else None,
            body=body,
            headers=dict(request.headers),
        )
        scripted = await self._scripted(call)
        if scripted is not None:
            return scripted
        if request.method == "DELETE":
            self.calls.append(call)
            return web.Response(status=200)
        if request.method == "PUT":
            self.calls.append(call)
            return web.json_response({"id": call.activity_id})
        sent = replace(call, sent_id=f"sent-{next(self._ids)}")
        self.calls.append(sent)
        return web.json_response({"id": sent.sent_id})
