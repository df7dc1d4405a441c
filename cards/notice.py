"""A short message from the bot, as a card (it can replace a clicked card in place)."""

from __future__ import annotations

from cards.common import Card, adaptive_card, text_block


def render_notice_card(message: str) -> Card:
    return adaptive_card([text_block(message)])
