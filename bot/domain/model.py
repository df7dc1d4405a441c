"""The vocabulary of hypercare: what an issue is, how severe, what kind, which part of Dynamics 365."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum, IntEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Severity(IntEnum):
    """Hypercare severities: the number is what people say in the war room ("a sev1")."""

    SEV1 = 1
    SEV2 = 2
    SEV3 = 3
    SEV4 = 4

    @property
    def label(self) -> str:
        return f"Sev {self.value}"

    @property
    def meaning(self) -> str:
        return SEVERITY_MEANINGS[self]


SEVERITY_MEANINGS: dict[Severity, str] = {
    Severity.SEV1: "work stopped, fix in hours",
    Severity.SEV2: "workaround for a day, fix in days",
    Severity.SEV3: "annoying, fix in weeks",
    Severity.SEV4: "enhancement, after hypercare",
}


class Category(str, Enum):
    HOW_TO = "how_to"
    ACCESS = "access"
    CONFIGURATION = "configuration"
    DEFECT = "defect"
    PERFORMANCE = "performance"
    DATA = "data"
    INTEGRATION = "integration"
    TRAINING = "training"
    ENHANCEMENT = "enhancement"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS: dict[Category, str] = {
    Category.HOW_TO: "How-to question",
    Category.ACCESS: "Access / permissions",
    Category.CONFIGURATION: "Configuration / setup",
    Category.DEFECT: "Defect",
    Category.PERFORMANCE: "Performance",
    Category.DATA: "Data / migration",
    Category.INTEGRATION: "Integration / interface",
    Category.TRAINING: "Training",
    Category.ENHANCEMENT: "Enhancement / change request",
}


class Area(str, Enum):
    GENERAL_LEDGER = "general_ledger"
    ACCOUNTS_PAYABLE = "accounts_payable"
    ACCOUNTS_RECEIVABLE = "accounts_receivable"
    CASH_BANK = "cash_bank"
    FIXED_ASSETS = "fixed_assets"
    TAX = "tax"
    PROCUREMENT = "procurement"
    SALES = "sales"
    INVENTORY = "inventory"
    WAREHOUSE = "warehouse"
    PRODUCTION = "production"
    PROJECT = "project"
    HR_PAYROLL = "hr_payroll"
    REPORTING = "reporting"
    PLATFORM = "platform"

    @property
    def label(self) -> str:
        return AREA_LABELS[self]


AREA_LABELS: dict[Area, str] = {
    Area.GENERAL_LEDGER: "General ledger",
    Area.ACCOUNTS_PAYABLE: "Accounts payable",
    Area.ACCOUNTS_RECEIVABLE: "Accounts receivable",
    Area.CASH_BANK: "Cash and bank",
    Area.FIXED_ASSETS: "Fixed assets",
    Area.TAX: "Tax",
    Area.PROCUREMENT: "Procurement",
    Area.SALES: "Sales",
    Area.INVENTORY: "Inventory",
    Area.WAREHOUSE: "Warehouse",
    Area.PRODUCTION: "Production",
    Area.PROJECT: "Project",
    Area.HR_PAYROLL: "HR and payroll",
    Area.REPORTING: "Reporting",
    Area.PLATFORM: "Platform / login",
}


class Environment(str, Enum):
    """The Dynamics 365 environment an issue happened in."""

    PRODUCTION = "production"
    TEST = "test"
    SANDBOX = "sandbox"

    @property
    def label(self) -> str:
        return ENVIRONMENT_LABELS[self]


ENVIRONMENT_LABELS: dict[Environment, str] = {
    Environment.PRODUCTION: "Production",
    Environment.TEST: "UAT / test",
    Environment.SANDBOX: "Sandbox / development",
}


class Status(str, Enum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    REOPENED = "reopened"
    RESOLVED = "resolved"
    DEFERRED = "deferred"
    DUPLICATE = "duplicate"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def is_open(self) -> bool:
        """Open issues are hypercare work; deferred ones wait for after hypercare and do not count."""
        return self in OPEN_STATUSES


OPEN_STATUSES = frozenset({Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.REOPENED})


class Role(str, Enum):
    ONCALL = "oncall"
    TRIAGE_LEAD = "triage_lead"
    SUPPORT = "support"
    PARTNER = "partner"
    LEADERSHIP = "leadership"
    ADMIN = "admin"
    FLOOR_WALKER = "floor_walker"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.ONCALL: "on-call developer/consultant",
    Role.TRIAGE_LEAD: "triage lead",
    Role.SUPPORT: "customer support team",
    Role.PARTNER: "partner project team",
    Role.LEADERSHIP: "leadership",
    Role.ADMIN: "admin",
    Role.FLOOR_WALKER: "floor walker (on the floor with the business teams)",
}


class ResolutionType(str, Enum):
    FIXED = "fixed"
    CONFIGURATION_CHANGED = "configuration_changed"
    USER_TRAINED = "user_trained"
    WORKAROUND_GIVEN = "workaround_given"
    NOT_A_DEFECT = "not_a_defect"
    DUPLICATE = "duplicate"

    @property
    def label(self) -> str:
        return RESOLUTION_LABELS[self]


RESOLUTION_LABELS: dict[ResolutionType, str] = {
    ResolutionType.FIXED: "Fixed",
    ResolutionType.CONFIGURATION_CHANGED: "Configuration changed",
    ResolutionType.USER_TRAINED: "User trained / how-to answered",
    ResolutionType.WORKAROUND_GIVEN: "Workaround given",
    ResolutionType.NOT_A_DEFECT: "Not a defect",
    ResolutionType.DUPLICATE: "Duplicate",
}


class HandledBy(str, Enum):
    """Who resolved it: feeds the exit criterion "the support team handles 80%+ of the volume"."""

    SUPPORT = "support"
    PARTNER = "partner"
    FLOOR_WALKER = "floor_walker"

    @property
    def label(self) -> str:
        return HANDLED_BY_LABELS[self]


HANDLED_BY_LABELS: dict[HandledBy, str] = {
    HandledBy.SUPPORT: "Customer support team",
    HandledBy.PARTNER: "Partner / project team",
    HandledBy.FLOOR_WALKER: "Floor walker",
}


# Field limits shared by the parser, the form and storage, so all three agree.
TITLE_MAX = 120
DESCRIPTION_MAX = 8000
COMPANY_MAX = 10
DOCUMENTS_MAX = 200  # document and voucher numbers, comma-separated
AFFECTED_USERS_MAX = 100_000


class IssueDraft(BaseModel):
    """What the parser could read from free text; every field is a suggestion the reporter may correct."""

    model_config = ConfigDict(frozen=True)

    title: str = ""
    description: str = ""
    severity: Severity | None = None
    category: Category | None = None
    area: Area | None = None
    company: str | None = None
    affected_users: int | None = Field(default=None, ge=0)
    environment: Environment | None = None
    documents: str | None = Field(default=None, max_length=DOCUMENTS_MAX)  # "PO-000482, INV-2024-00891"


class Person(BaseModel):
    model_config = ConfigDict(frozen=True)

    aad_object_id: str | None
    name: str

    @property
    def key(self) -> str:
        """Who this is: the AAD object id, or the name for someone Teams gave no id for."""
        return self.aad_object_id or f"name:{self.name.casefold()}"


class ProgressNote(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    author: Person
    at: datetime


class Confirmation(BaseModel):
    """A resolution signed off: by the reporter ("Fixed for me"), a triage lead or key user (the stand-up's Confirm), or
    nobody: closed automatically when no one said it was still broken in time (see bot/domain/signoff.py)."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    by: Person | None = None

    @property
    def automatic(self) -> bool:
        return self.by is None


class Resolution(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: ResolutionType
    notes: str
    handled_by: HandledBy
    resolved_by: Person
    resolved_at: datetime
    save_as_runbook: bool = False
    runbook_title: str | None = None
    # Until it is confirmed: when it closes by itself (the war room's working days after the resolution).
    close_by: datetime | None = None
    # None: resolved and waiting for confirmation; the issue is closed once this is set.
    confirmation: Confirmation | None = None


class Escalation(BaseModel):
    """The issue handed from the support team to the partner: who, when, why, and to whom (None: the partner team)."""

    model_config = ConfigDict(frozen=True)

    escalated_by: Person
    escalated_at: datetime
    reason: str
    to: Person | None = None


class Priority(str, Enum):
    """What the stand-up agreed for an issue that needed a decision."""

    KEEP = "keep"
    DEFER = "defer"
    SEVERITY = "severity"

    @property
    def label(self) -> str:
        return PRIORITY_LABELS[self]


PRIORITY_LABELS: dict[Priority, str] = {
    Priority.KEEP: "kept in hypercare",
    Priority.DEFER: "deferred to after hypercare",
    Priority.SEVERITY: "severity changed",
}


class PriorityDecision(BaseModel):
    """Who agreed what for an issue, at the stand-up of which (local) date. A reopening asks again."""

    model_config = ConfigDict(frozen=True)

    priority: Priority
    by: Person
    at: datetime
    standup_on: date


class _IssueFacts(BaseModel):
    """What an issue is, whether about to be stored or stored."""

    model_config = ConfigDict(frozen=True)

    war_room_id: int
    title: str
    description: str
    severity: Severity
    category: Category | None
    area: Area | None
    company: str | None
    affected_users: int | None
    status: Status
    reporter: Person
    created_at: datetime
    resolve_by: datetime | None
    conversation_id: str
    card_activity_id: str | None = None
    # The Teams message it was raised from ("Raise hypercare issue" on a message).
    source_url: str | None = None
    # Dynamics 365 details read from the message and confirmed on the form.
    environment: Environment | None = None
    documents: str | None = Field(default=None, max_length=DOCUMENTS_MAX)  # "PO-000482, INV-2024-00891"


class Issue(_IssueFacts):
    """A stored hypercare issue."""

    id: int
    # The war room's next number when it was stored (`Issues.add`): #1, #2, ... per war room.
    number: int
    updated_at: datetime
    version: int
    acknowledged_at: datetime | None = None
    acknowledged_by: Person | None = None
    assignee: Person | None = None
    latest_update: ProgressNote | None = None
    resolution: Resolution | None = None
    duplicate_of: int | None = None  # the number of the issue this one duplicates
    # People who said "me too", and reporters moved here from duplicates: told when it is resolved.
    followers: tuple[Person, ...] = ()
    # Escalated to the partner by the support team (or a floor walker): kept through reopening, for the escalation rate.
    escalation: Escalation | None = None
    # Agreed at a stand-up ("Needs a decision"): it is no longer asked about until it is reopened.
    decision: PriorityDecision | None = None

    # The flat facts of bot/domain/brief.py, so the counts run on whole issues and on briefs alike.
    @property
    def resolved_at(self) -> datetime | None:
        return self.resolution.resolved_at if self.resolution else None

    @property
    def handled_by(self) -> HandledBy | None:
        return self.resolution.handled_by if self.resolution else None

    @property
    def escalated_at(self) -> datetime | None:
        return self.escalation.escalated_at if self.escalation else None

    @property
    def awaiting_confirmation(self) -> bool:
        """Resolved, and neither its reporter nor a triage lead or key user has confirmed it, nor has it closed by itself."""
        return self.status is Status.RESOLVED and self.resolution is not None and self.resolution.confirmation is None

    @property
    def status_text(self) -> str:
        """The status as people say it: a resolved issue is "awaiting confirmation" until it is closed."""
        if self.status is not Status.RESOLVED or self.resolution is None:
            return self.status.label
        confirmation = self.resolution.confirmation
        if confirmation is None:
            return "Resolved, awaiting confirmation"
        return "Closed automatically" if confirmation.automatic else "Closed, confirmed"


class NewIssue(_IssueFacts):
    """An issue about to be stored: a confirmed draft plus who, where and when."""

    tenant_id: str | None
    team_id: str | None
    channel_id: str | None
    source_form_id: str


class IssueQuery(BaseModel):
    """Which issues a list shows (the `list` command's filters)."""

    model_config = ConfigDict(frozen=True)

    statuses: frozenset[Status] = OPEN_STATUSES
    severity: Severity | None = None
    assignee_id: str | None = None
    unassigned: bool = False
    breached: bool = False
    limit: int = Field(default=15, ge=1, le=100)


class Runbook(BaseModel):
    """A fix written down: symptoms and steps, so the support team can apply it without the partner."""

    model_config = ConfigDict(frozen=True)

    id: int
    war_room_id: int
    title: str
    symptoms: str
    steps: str
    area: Area | None
    category: Category | None
    owner: Person
    issue_ids: tuple[int, ...] = ()
    created_at: datetime
    updated_at: datetime


class NewRunbook(BaseModel):
    model_config = ConfigDict(frozen=True)

    war_room_id: int
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    symptoms: str = Field(default="", max_length=DESCRIPTION_MAX)
    steps: str = Field(min_length=1, max_length=DESCRIPTION_MAX)
    area: Area | None = None
    category: Category | None = None
    owner: Person
    issue_ids: tuple[int, ...] = ()
    created_at: datetime
    # The form it was written in (`runbook new`); None when saved from a resolved issue.
    source_form_id: str | None = None


class Suggestion(BaseModel):
    """A resolved issue or a runbook that looks like what someone is about to report."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["issue", "runbook"]
    id: int
    title: str
    number: int | None = None  # issues only
    summary: str = ""  # how it was fixed
    score: float = 0.0
