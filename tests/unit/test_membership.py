"""Which war room a personal chat acts in: the one named with `in`, the only one, or the one chosen last."""

from __future__ import annotations

import pytest

from bot.domain.membership import acting_war_room, named_war_room, war_room_label
from bot.domain.war_room import OnCall, WarRoom, WarRoomSettings


def room(war_room_id: int, name: str | None) -> WarRoom:
    return WarRoom(
        id=war_room_id, key=f"t/team:{war_room_id}", tenant_id="t", team_id=str(war_room_id), name=name,
        settings=WarRoomSettings(), oncall=OnCall(), home_conversation_id=None, home_channel_id=None,
        home_service_url=None, bot_id=None, next_standup_at=None, last_standup_at=None,
    )


GO_LIVE, FINANCE, FINANCE_EMEA, UNNAMED = room(1, "Go-live"), room(2, "Finance"), room(3, "Finance EMEA"), room(4, None)
ROOMS = (GO_LIVE, FINANCE, FINANCE_EMEA, UNNAMED)


@pytest.mark.parametrize(
    ("text", "rest", "named"),
    [
        ("list in Finance", "list", FINANCE),
        ("list sev1 IN finance emea", "list sev1", FINANCE_EMEA),
        ("ack #12 in go-live", "ack #12", GO_LIVE),
        ("resolve #3 restarted the batch in war room 4", "resolve #3 restarted the batch", UNNAMED),
        ("show #12 in  Finance  ", "show #12", FINANCE),
        # Not a war room of theirs: the words are the command's own.
        ("resolve #3 fixed it in Production", "resolve #3 fixed it in Production", None),
        ("list", "list", None),
        ("in Finance", "in Finance", None),
    ],
)
def test_a_trailing_in_names_one_of_the_persons_war_rooms(text: str, rest: str, named: WarRoom | None) -> None:
    assert named_war_room(text, ROOMS) == (rest, named)


def test_a_war_room_is_labelled_by_its_name_or_its_number() -> None:
    assert (war_room_label(FINANCE), war_room_label(UNNAMED)) == ("Finance", "war room 4")


def test_the_named_war_room_comes_first_then_the_only_one_then_the_last_chosen() -> None:
    assert acting_war_room((GO_LIVE,)) == GO_LIVE
    assert acting_war_room((GO_LIVE,), named=None, chosen=99) == GO_LIVE
    assert acting_war_room(ROOMS, named=FINANCE, chosen=GO_LIVE.id) == FINANCE
    assert acting_war_room(ROOMS, chosen=FINANCE_EMEA.id) == FINANCE_EMEA


def test_several_war_rooms_and_no_choice_is_no_answer() -> None:
    assert acting_war_room(ROOMS) is None
    # A choice of a war room they have since left does not count.
    assert acting_war_room((GO_LIVE, FINANCE), chosen=FINANCE_EMEA.id) is None
    assert acting_war_room(()) is None
