"""bot/chat/welcome.py: `help` shows what the bot can do, under its own name."""

from __future__ import annotations

from tests.support.chat import Bot, text


async def test_help_names_the_bot_and_how_to_raise_an_issue(bot: Bot) -> None:
    [answer] = await bot.say("help")

    assert "Contoso Hypercare: the hypercare war-room bot" in text(answer.card)
    assert "describe the problem in your own words" in text(answer.card)
