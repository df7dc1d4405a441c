"""The stand-up summary and the status card, on demand."""

from __future__ import annotations

from bot.chat.context import Chat, Said
from bot.domain.charts import ChartSeries
from bot.domain.commands import PostStandup, ShowStatus
from bot.domain.messages import Outbound, ReplyCard
from bot.services.charts import keep_chart
from bot.services.phase import phase_figures
from bot.services.standup import standup_for, war_room_of
from cards.notice import render_notice_card
from cards.standup import render_standup
from cards.status import render_status

NOTHING_YET = "No issues raised here yet."


async def post_standup(chat: Chat, command: PostStandup, said: Said) -> list[Outbound]:
    now = chat.now()
    conversation = said.message.conversation
    standup = await standup_for(uow=chat.uow(), now=now, conversation=conversation)
    if standup is None:
        return [ReplyCard(card=render_notice_card(NOTHING_YET))]
    chart_id = await keep_chart(uow=chat.uow(), now=now, war_room_id=standup.war_room_id)
    card = render_standup(standup.summary, chart_url=chat.chart_url(standup.war_room_id, chart_id), chart_id=chart_id)
    return [ReplyCard(card=card)]


async def show_status(chat: Chat, command: ShowStatus, said: Said) -> list[Outbound]:
    now = chat.now()
    war_room_id = await war_room_of(uow=chat.uow(), conversation=said.message.conversation)
    figures = await phase_figures(uow=chat.uow(), now=now, war_room_id=war_room_id) if war_room_id else None
    if figures is None:
        return [ReplyCard(card=render_notice_card(NOTHING_YET))]
    chart_id = await keep_chart(uow=chat.uow(), now=now, war_room_id=figures.room.id, series=ChartSeries.of(figures.metrics.days))
    room = figures.room
    card = render_status(
        figures.metrics, figures.report, chart_url=chat.chart_url(room.id, chart_id), war_room_name=room.display_name,
        issues=tuple(figures.issues), tenant_id=room.tenant_id, team_name=room.name if room.team_id else None,
    )
    return [ReplyCard(card=card)]
