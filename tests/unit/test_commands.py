"""Chat commands: a known word at the start of the text (any case); anything else is an issue report."""

from __future__ import annotations

import pytest

from bot.domain.commands import (
    LIST_FILTERS,
    AcknowledgeIssue,
    AddFloorWalker,
    AssignIssue,
    ChatCommand,
    CommandError,
    HandOver,
    ListIssues,
    MakeHome,
    ManageRoles,
    RemoveFloorWalker,
    ReportIssue,
    ResolveIssue,
    ShowHelp,
    ShowFloor,
    ShowHistory,
    ShowIssue,
    parse_command,
)
from bot.domain.model import Area, Role, Severity, Status

ALL_STATUSES = frozenset(Status)


def case_id(text: str) -> str:
    return repr(text)[1:-1][:60] or "<empty>"


def params(cases: list[tuple[str, object]]) -> list[object]:
    return [pytest.param(text, expected, id=case_id(text)) for text, expected in cases]


# -- help / new -------------------------------------------------------------------------------

HELP_AND_NEW: list[tuple[str, ChatCommand | None]] = [
    ("help", ShowHelp()),
    ("HELP", ShowHelp()),
    ("  Help  ", ShowHelp()),
    ("help:", ShowHelp()),
    ("help\n", ShowHelp()),
    ("?", ShowHelp()),
    ("help, nobody can post invoices", None),
    ("help me post a journal", None),
    ("help: nobody can post invoices", None),
    ("helpdesk portal is down", None),
    ("new sev2 something", ReportIssue(text="sev2 something")),
    ("NEW   sev2 something  ", ReportIssue(text="sev2 something")),
    ("New: AP cannot post vendor invoices", ReportIssue(text="AP cannot post vendor invoices")),
    ("new\nAP cannot post\nvendor invoices", ReportIssue(text="AP cannot post\nvendor invoices")),
    ("newbie cannot log in", None),
]


@pytest.mark.parametrize(("text", "expected"), params(HELP_AND_NEW))
def test_help_and_new(text: str, expected: ChatCommand | None) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize("text", ["new", "NEW", "  new  ", "new:", "new\n"], ids=case_id)
def test_new_alone_says_how_to_write_it(text: str) -> None:
    result = parse_command(text)

    assert isinstance(result, CommandError)
    assert "`new`" in result.message


# -- list -------------------------------------------------------------------------------------

LISTS: list[tuple[str, ListIssues]] = [
    ("list", ListIssues()),
    ("LIST", ListIssues()),
    ("  List  ", ListIssues()),
    ("list:", ListIssues()),
    ("list sev1", ListIssues(severity=Severity.SEV1, filters=("sev1",))),
    ("list SEV2", ListIssues(severity=Severity.SEV2, filters=("sev2",))),
    ("list sev3", ListIssues(severity=Severity.SEV3, filters=("sev3",))),
    ("list Sev4", ListIssues(severity=Severity.SEV4, filters=("sev4",))),
    ("list mine", ListIssues(mine=True, filters=("mine",))),
    ("list unassigned", ListIssues(unassigned=True, filters=("unassigned",))),
    ("list breached", ListIssues(breached=True, filters=("breached",))),
    ("list deferred", ListIssues(statuses=frozenset({Status.DEFERRED}), filters=("deferred",))),
    ("list resolved", ListIssues(statuses=frozenset({Status.RESOLVED}), filters=("resolved",))),
    ("list all", ListIssues(statuses=ALL_STATUSES, filters=("all",))),
    ("list sev1 mine", ListIssues(severity=Severity.SEV1, mine=True, filters=("sev1", "mine"))),
    ("List SEV1, Unassigned", ListIssues(severity=Severity.SEV1, unassigned=True, filters=("sev1", "unassigned"))),
    (
        "list   sev2   breached   unassigned  ",
        ListIssues(severity=Severity.SEV2, breached=True, unassigned=True, filters=("sev2", "breached", "unassigned")),
    ),
    (
        "list mine deferred",
        ListIssues(mine=True, statuses=frozenset({Status.DEFERRED}), filters=("mine", "deferred")),
    ),
    (
        "list sev3 resolved mine",
        ListIssues(severity=Severity.SEV3, mine=True, statuses=frozenset({Status.RESOLVED}), filters=("sev3", "resolved", "mine")),
    ),
    (
        "list all breached",
        ListIssues(breached=True, statuses=ALL_STATUSES, filters=("all", "breached")),
    ),
]


@pytest.mark.parametrize(("text", "expected"), params(LISTS))  # type: ignore[arg-type]
def test_list(text: str, expected: ListIssues) -> None:
    assert parse_command(text) == expected


def test_plain_list_shows_the_open_issues() -> None:
    result = parse_command("list")

    assert isinstance(result, ListIssues)
    assert (result.severity, result.mine, result.unassigned, result.breached, result.statuses, result.filters) == (
        None,
        False,
        False,
        False,
        None,
        (),
    )


@pytest.mark.parametrize(
    ("text", "unknown"),
    [("list sev5", "sev5"), ("LIST Open", "open"), ("list foo bar", "foo"), ("list mine sev9", "sev9")],
    ids=case_id,
)
def test_a_short_list_with_an_unknown_filter_is_a_mistyped_command(text: str, unknown: str) -> None:
    result = parse_command(text)

    assert isinstance(result, CommandError)
    assert f"`{unknown}`" in result.message
    assert all(name in result.message for name in LIST_FILTERS)


@pytest.mark.parametrize(
    "text",
    [
        "list of vendors is wrong in AP",
        "List price is wrong on sales orders",
        "list sev1 is missing some issues",
    ],
    ids=case_id,
)
def test_a_longer_list_sentence_is_an_issue_report(text: str) -> None:
    assert parse_command(text) is None


# -- show / history / ack / assign ------------------------------------------------------------

NUMBERED: list[tuple[str, ChatCommand | None]] = [
    ("show #12", ShowIssue(number=12)),
    ("show 12", ShowIssue(number=12)),
    ("SHOW   #12  ", ShowIssue(number=12)),
    ("Show: 7", ShowIssue(number=7)),
    ("show\n#12", ShowIssue(number=12)),
    ("history #12", ShowHistory(number=12)),
    ("HISTORY 12", ShowHistory(number=12)),
    ("  History   #3 ", ShowHistory(number=3)),
    ("ack #12", AcknowledgeIssue(number=12)),
    ("ACK 12", AcknowledgeIssue(number=12)),
    ("Ack:  #12", AcknowledgeIssue(number=12)),
    ("assign #12 @Omar Haddad", AssignIssue(number=12)),
    ("ASSIGN 12 Omar", AssignIssue(number=12)),
    ("assign   #12", AssignIssue(number=12)),
    ("show #123456789", ShowIssue(number=123456789)),
    ("show me how to post a journal", None),
    ("history of this vendor is wrong", None),
    ("ack, nobody can post", None),
    ("assign the posting profile to the vendor group fails", None),
    ("show12", None),
    ("showing wrong totals on the trial balance", None),
]


@pytest.mark.parametrize(("text", "expected"), params(NUMBERED))
def test_numbered_commands(text: str, expected: ChatCommand | None) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize("word", ["show", "history", "ack", "assign", "SHOW", "Ack"], ids=case_id)
def test_a_numbered_command_alone_asks_for_the_number(word: str) -> None:
    result = parse_command(word)

    assert isinstance(result, CommandError)
    assert f"`{word.lower()} #12`" in result.message


@pytest.mark.parametrize(
    "text",
    ["show 500 error when posting vendor invoices", "history 2 of the 3 payment journals are missing"],
    ids=case_id,
)
def test_show_with_a_sentence_after_the_number_is_an_issue_report(text: str) -> None:
    assert parse_command(text) is None


# -- resolve ----------------------------------------------------------------------------------

RESOLVES: list[tuple[str, ChatCommand | None]] = [
    ("resolve #12 reset the posting profile", ResolveIssue(number=12, notes="reset the posting profile")),
    ("RESOLVE   12   reset the posting profile  ", ResolveIssue(number=12, notes="reset the posting profile")),
    ("Resolve: #12 Reset the posting profile", ResolveIssue(number=12, notes="Reset the posting profile")),
    (
        "resolve #12\nreset the posting profile\nin USMF",
        ResolveIssue(number=12, notes="reset the posting profile\nin USMF"),
    ),
    ("resolve the posting problem please", None),
]


@pytest.mark.parametrize(("text", "expected"), params(RESOLVES))
def test_resolve(text: str, expected: ChatCommand | None) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("resolve #12", "`resolve #12 what fixed it`"),
        ("resolve 12", "`resolve #12 what fixed it`"),
        ("Resolve   #7   ", "`resolve #7 what fixed it`"),
        ("resolve", "`resolve #12 what fixed it`"),
        ("RESOLVE  ", "`resolve #12 what fixed it`"),
    ],
    ids=case_id,
)
def test_resolve_without_notes_says_how_to_write_it(text: str, hint: str) -> None:
    result = parse_command(text)

    assert isinstance(result, CommandError)
    assert hint in result.message


# -- roles ------------------------------------------------------------------------------------

ROLES: list[tuple[str, ChatCommand | None]] = [
    ("roles", ManageRoles(action="list")),
    ("ROLES  ", ManageRoles(action="list")),
    ("roles:", ManageRoles(action="list")),
    ("roles add Priya triage_lead", ManageRoles(action="add", role=Role.TRIAGE_LEAD)),
    ("Roles ADD @Priya Shah TRIAGE_LEAD", ManageRoles(action="add", role=Role.TRIAGE_LEAD)),
    ("roles remove X oncall", ManageRoles(action="remove", role=Role.ONCALL)),
    ("roles   remove   @Omar   support  ", ManageRoles(action="remove", role=Role.SUPPORT)),
    ("roles add @Lena partner", ManageRoles(action="add", role=Role.PARTNER)),
    ("roles add @Lena leadership", ManageRoles(action="add", role=Role.LEADERSHIP)),
    ("roles add @Lena admin", ManageRoles(action="add", role=Role.ADMIN)),
    ("roles are confusing in the security configuration", None),
]


@pytest.mark.parametrize(("text", "expected"), params(ROLES))
def test_roles(text: str, expected: ChatCommand | None) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    "text",
    ["roles add X boss", "roles add", "roles remove Omar", "roles add Priya triage lead", "roles add Priya triage_lead."],
    ids=case_id,
)
def test_roles_with_an_unknown_role_lists_the_roles(text: str) -> None:
    result = parse_command(text)

    assert isinstance(result, CommandError)
    assert all(role.value in result.message for role in Role)


# -- floor walkers ------------------------------------------------------------------------------

FINANCE = (Area.GENERAL_LEDGER, Area.ACCOUNTS_PAYABLE, Area.ACCOUNTS_RECEIVABLE, Area.CASH_BANK, Area.FIXED_ASSETS, Area.TAX)

FLOOR: list[tuple[str, ChatCommand | None]] = [
    ("floor", ShowFloor()),
    ("Floor ", ShowFloor()),
    ("floor add Ana Ruiz areas finance,warehouse", AddFloorWalker(areas=(*FINANCE, Area.WAREHOUSE))),
    (
        "floor add @Ana areas warehouse days mon,tue site Rotterdam",
        AddFloorWalker(areas=(Area.WAREHOUSE,), days=frozenset({0, 1}), site="Rotterdam"),
    ),
    (
        "floor add Ana areas accounts payable, tax site Rotterdam DC 2 days mon-wed",
        AddFloorWalker(areas=(Area.ACCOUNTS_PAYABLE, Area.TAX), days=frozenset({0, 1, 2}), site="Rotterdam DC 2"),
    ),
    ("FLOOR ADD Ana AREAS ap", AddFloorWalker(areas=(Area.ACCOUNTS_PAYABLE,))),
    ("floor remove @Ana Ruiz", RemoveFloorWalker()),
    # Someone describing a problem on the shop floor.
    ("floor manager cannot print pick lists", None),
    ("floor scanners are offline in Rotterdam", None),
]


@pytest.mark.parametrize(("text", "expected"), params(FLOOR))
def test_floor(text: str, expected: ChatCommand | None) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("floor add Ana", "Write `floor add @person areas finance,warehouse [days mon,tue] [site Rotterdam]`."),
        ("floor add Ana areas", "Name at least one area."),
        ("floor add Ana areas canteen", "I don't know the area “canteen”."),
        ("floor add Ana areas tax days someday", "I don't know the day “someday”."),
        ("floor add Ana areas tax site", "Name the site after `site`, e.g. `site Rotterdam`."),
        ("floor add Ana areas tax site " + "x" * 101, "Keep the site under 100 characters."),
    ],
    ids=case_id,
)
def test_floor_add_written_wrongly_says_how(text: str, problem: str) -> None:
    result = parse_command(text)

    assert isinstance(result, CommandError)
    assert result.message.startswith(problem)


# -- everything else --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "AP cannot post vendor invoices",
        "sev1 - nobody in AP can post vendor invoices",
        "Posting profile missing in USMF",
        "#12 is still broken",
        "please ack my issue",
        "",
        "   ",
        "\n\n",
    ],
    ids=case_id,
)
def test_anything_else_is_not_a_command(text: str) -> None:
    assert parse_command(text) is None


@pytest.mark.parametrize("text", ["handover", "Handover", "hand-over", "  handover  "], ids=case_id)
def test_handover(text: str) -> None:
    assert parse_command(text) == HandOver()


def test_handover_with_words_after_it_is_an_issue_report() -> None:
    assert parse_command("handover of the vendor master data failed") is None


# -- standup here -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["standup here", "Stand-up HERE", "standup   here  "])
def test_standup_here_makes_the_channel_the_home(text: str) -> None:
    assert parse_command(text) == MakeHome()


def test_standup_with_other_words_is_an_issue_report() -> None:
    assert parse_command("standup notes are missing the Sev 2 list") is None
