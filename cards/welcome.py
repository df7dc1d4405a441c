"""First contact: the welcome posted once where the bot is added to a team, and the short one of a personal chat."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.model import Person
from cards.common import Card, adaptive_card, execute, plain_text, text_block

# The welcome's "Set up hypercare" button: the setup card for an admin, who may otherwise.
SETUP_BUTTON_VERB = "hypercare.setup"

_RAISE = (
    "Mention me in a channel and describe the problem in your own words, for example "
    "*@{bot} sev2 - nobody in AP can post vendor invoices in USMF*. I fill in an issue form for you to check. "
    "Or, on any message, choose **…** › **More actions** › **Raise hypercare issue**."
)


def render_welcome(*, bot_name: str, war_room_name: str, admins: Sequence[Person]) -> Card:
    """Posted once in the channel the bot was added to: what it does, how to raise, who sets it up, and the button."""
    who = ", ".join(person.name for person in admins) or "the admin who runs this bot"
    return adaptive_card(
        [
            text_block(f"{bot_name} is here", size="Medium", weight="Bolder"),
            plain_text(f"The hypercare war room of {war_room_name}."),
            text_block(
                "I keep this team's hypercare war room: every problem becomes a tracked issue with a severity and a "
                "resolution target, I chase it until it is fixed, post a stand-up every working morning and show how "
                "close the phase is to its exit criteria.",
                spacing="Small",
            ),
            text_block("Raise an issue", weight="Bolder", spacing="Medium"),
            text_block(_RAISE.format(bot=bot_name), spacing="Small"),
            text_block("You can also write to me in a personal chat. `help` lists what I understand.", spacing="Small"),
            text_block("Set it up", weight="Bolder", spacing="Medium"),
            plain_text(
                f"An admin ({who}) sets the hypercare window (start, planned end, stand-up time) and gives people their "
                "roles: roles add @person triage_lead. Saying standup here in another channel moves the stand-ups there.",
                spacing="Small",
            ),
        ],
        [execute("Set up hypercare", SETUP_BUTTON_VERB, {}, style="positive")],
    )


def render_personal_welcome(*, bot_name: str, war_rooms: Sequence[str], no_war_room: str) -> Card:
    """The first contact in a personal chat: the same how-to, and the war rooms this chat acts in."""
    if not war_rooms:
        where = no_war_room
    elif len(war_rooms) == 1:
        where = f"What you raise or ask here is for your war room, {war_rooms[0]}: the triage team sees it in the team's channel."
    else:
        where = (
            f"You are in {len(war_rooms)} war rooms ({', '.join(war_rooms)}): the issue form asks which one, and a "
            f"command ends with in and the war room, for example: list in {war_rooms[0]}. I remember your last choice."
        )
    return adaptive_card(
        [
            text_block(f"Hi, I am {bot_name}, the hypercare war-room bot", size="Medium", weight="Bolder"),
            text_block(
                "Tell me a problem here in your own words and I fill in the issue form. "
                + _RAISE.format(bot=bot_name).replace("Mention me in a channel", "In your team's channel, mention me"),
                spacing="Small",
            ),
            plain_text(where),
            text_block("`help` lists what I understand; `list` shows the open issues.", spacing="Small", isSubtle=True),
        ]
    )
