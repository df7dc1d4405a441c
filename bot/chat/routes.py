"""Which handler answers which command and which card verb: the one place to look, and to add a new one."""

from __future__ import annotations

from bot.chat import floor, handover, intake, knowledge, oncall, phase, priorities, roles, signoff, standup, triage, views, welcome
from bot.chat.context import CardHandler, CommandHandler
from bot.domain import commands
from bot.domain.events import Verb
from cards.celebration import HANDOVER_VERB
from cards.issue_actions import VERB_PREFIX
from cards.issue_card import VIEW_VERB
from cards.issue_form import CREATE_VERB
from cards.phase import SETUP_OPEN_VERB, SETUP_VERB, SIGN_OFF_VERB, WITHDRAW_VERB
from cards.reminders import SNOOZE_VERB
from cards.runbooks import CREATE_RUNBOOK_VERB, UPDATE_RUNBOOK_VERB
from cards.standup import DECIDE_VERB
from cards.signoff import BROKEN_VERB, CONFIRM_VERB, FIXED_VERB, REOPEN_VERB
from cards.welcome import SETUP_BUTTON_VERB

COMMANDS: dict[type, CommandHandler] = {
    commands.ShowHelp: welcome.show,
    commands.ReportIssue: intake.report,
    commands.ListIssues: triage.list_,
    commands.ShowIssue: triage.show,
    commands.ShowHistory: triage.history,
    commands.AcknowledgeIssue: triage.acknowledge,
    commands.AssignIssue: triage.assign,
    commands.ResolveIssue: triage.resolve,
    commands.ShowOnCall: oncall.show,
    commands.SetOnCall: oncall.set_override,
    commands.SetRota: oncall.set_rota,
    commands.ShowFloor: floor.show,
    commands.AddFloorWalker: floor.add,
    commands.RemoveFloorWalker: floor.remove,
    commands.ManageRoles: roles.manage,
    commands.PostStandup: standup.post_standup,
    commands.MakeHome: welcome.standup_here,
    commands.ShowStatus: standup.show_status,
    commands.ShowSetup: phase.show_setup,
    commands.ShowExit: phase.show_exit,
    commands.ExtendPhase: phase.move_end,
    commands.HandOver: handover.offer,
    commands.NewRunbook: knowledge.new_form,
    commands.SearchRunbooks: knowledge.search,
}

CARD_VERBS: dict[str, CardHandler] = {
    CREATE_VERB: intake.submit_issue_form,
    SETUP_VERB: phase.save_setup,
    SETUP_OPEN_VERB: phase.open_setup,
    SIGN_OFF_VERB: phase.sign,
    WITHDRAW_VERB: phase.withdraw,
    HANDOVER_VERB: handover.give_link,
    CREATE_RUNBOOK_VERB: knowledge.save_new,
    UPDATE_RUNBOOK_VERB: knowledge.save_edit,
    SNOOZE_VERB: triage.snooze,
    SETUP_BUTTON_VERB: welcome.open_setup,
    VIEW_VERB: views.own_view,
    DECIDE_VERB: priorities.decide_at_standup,
    FIXED_VERB: signoff.answer_question,
    BROKEN_VERB: signoff.answer_question,
    CONFIRM_VERB: signoff.sign_off_on_standup,
    REOPEN_VERB: signoff.sign_off_on_standup,
    # A priority is agreed on the stand-up's card, which it redraws (DECIDE_VERB), not on the issue's.
    **{VERB_PREFIX + verb.value: triage.press_issue_button for verb in Verb if verb is not Verb.DECIDE},
}
