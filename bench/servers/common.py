"""What the reference servers share: where they listen, the row they write, the reply they send."""

from __future__ import annotations

import argparse
import os
from datetime import datetime, timezone
from urllib.parse import quote

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table, Text
from sqlalchemy.ext.asyncio import AsyncEngine

metadata = MetaData()

# One row per message for (c') and (g): about what a real bot stores for an incoming message.
bench_rows = Table(
    "bench_rows",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("activity_id", String(200), nullable=False),
    Column("conversation_id", String(300), nullable=False),
    Column("sender_aad_id", String(64)),
    Column("text", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)


def row_values(activity: dict) -> dict:
    return {
        "activity_id": str(activity.get("id") or ""),
        "conversation_id": str((activity.get("conversation") or {}).get("id") or ""),
        "sender_aad_id": (activity.get("from") or {}).get("aadObjectId"),
        "text": str(activity.get("text") or ""),
        "received_at": datetime.now(timezone.utc),
    }


async def create_bench_table(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all, checkfirst=True)


def reply_url(activity: dict) -> str:
    """POST v3/conversations/{conv}/activities/{incoming id}: a reply during a turn."""
    base = str(activity["serviceUrl"]).rstrip("/")
    conversation = quote(str(activity["conversation"]["id"]), safe="")
    return f"{base}/v3/conversations/{conversation}/activities/{quote(str(activity['id']), safe='')}"


def reply_body(activity: dict) -> dict:
    """The echo reply, shaped as botbuilder sends it."""
    return {
        "type": "message",
        "text": "echo",
        "from": activity.get("recipient"),
        "recipient": activity.get("from"),
        "conversation": activity.get("conversation"),
        "replyToId": activity.get("id"),
        "serviceUrl": activity.get("serviceUrl"),
        "channelId": activity.get("channelId"),
        "locale": activity.get("locale"),
    }


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", default=os.environ.get("HYPERCARE_DATABASE_URL", ""))
    return parser
