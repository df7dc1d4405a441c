"""The free-text parser: what a hypercare message prefills, and how the vocabulary file steers it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.model import DESCRIPTION_MAX, TITLE_MAX, Area, Category, IssueDraft, Severity
from bot.domain.parsing import (
    DEFAULT_VOCABULARY_PATH,
    Vocabulary,
    VocabularyError,
    load_vocabulary,
    parse_issue_draft,
)

S1, S2, S3, S4 = Severity.SEV1, Severity.SEV2, Severity.SEV3, Severity.SEV4
C = Category
A = Area

# (message, severity, category, area, company, affected users), labelled by hand.
# fmt: off
LABELLED = [
    ("sev1 - nobody in AP can post vendor invoices, posting profile missing",
     S1, C.CONFIGURATION, A.ACCOUNTS_PAYABLE, None, None),
    ("[P1] Warehouse stopped in USMF: mobile device app times out on every pick. 20 users affected.",
     S1, C.PERFORMANCE, A.WAREHOUSE, "USMF", 20),
    ("URGENT: can't log in to D365, MFA loops forever. All 35 users in AP are blocked",
     S1, C.ACCESS, A.PLATFORM, None, 35),
    ("How do I reverse a posted customer payment in company demf?",
     None, C.HOW_TO, A.ACCOUNTS_RECEIVABLE, "DEMF", None),
    ("Sev 2 – Power BI financial report shows wrong amounts for legal entity: DEMF",
     S2, C.DEFECT, A.REPORTING, "DEMF", None),
    ("Could we add a new field on the purchase order for the buyer's cost center? Nice to have.",
     S4, C.ENHANCEMENT, A.PROCUREMENT, None, None),
    ("S3: sales tax calculates wrong on intercompany invoices in GBSI",
     S3, C.DEFECT, A.TAX, "GBSI", None),
    ("Hi team,\nnobody in the warehouse can ship. No workaround! 100+ users waiting",
     S1, None, A.WAREHOUSE, None, 100),
    ("priority: high - bank statement import fails with error, 5 of us stuck",
     S2, C.DEFECT, A.CASH_BANK, None, 5),
    ("P2 - depreciation run for fixed assets posts to the wrong main account in company usmf",
     S2, C.DEFECT, A.FIXED_ASSETS, "USMF", None),
    ("Number sequence for purchase requisitions is not set up in DEMF, 12 buyers blocked",
     None, C.CONFIGURATION, A.PROCUREMENT, "DEMF", 12),
    ("Batch job for MRP has been running for hours, master planning never finishes",
     None, C.PERFORMANCE, A.PRODUCTION, None, None),
    ("Payment journal export to the bank file fails: format error, we have a workaround (manual upload)",
     S2, C.INTEGRATION, A.CASH_BANK, None, None),
    ("Typo on the customer invoice print layout: 'Ammount' instead of 'Amount'",
     S3, C.DEFECT, A.ACCOUNTS_RECEIVABLE, None, None),
    ("Can we have a new report for open purchase orders by buyer? Not urgent",
     S3, C.ENHANCEMENT, A.PROCUREMENT, None, None),
    ("Users get 'You are not authorized to access this form' on vendor invoice approval since go-live",
     None, C.ACCESS, A.ACCOUNTS_PAYABLE, None, None),
    ("Password reset needed for 3 warehouse workers, locked out of the warehouse app",
     None, C.ACCESS, A.WAREHOUSE, None, 3),
    ("The opening balances for customers were migrated twice - duplicate open items in AR",
     None, C.DATA, A.ACCOUNTS_RECEIVABLE, None, None),
    ("Dual-write between D365 and Dataverse stopped syncing customers since this morning",
     None, C.INTEGRATION, A.PLATFORM, None, None),
    ("Blocker: production orders can't be released, BOM version not approved",
     S1, None, A.PRODUCTION, None, None),
    ("minor: the on-hand list is slow to open for item 12345",
     S3, C.PERFORMANCE, A.INVENTORY, None, None),
    ("Feature request: default dimension should come from the project on expense reports",
     S4, C.ENHANCEMENT, A.PROJECT, None, None),
    ("Is there a way to print the packing slip again for sales order SO-001234?",
     None, C.HOW_TO, A.SALES, None, None),
    ("Where do I find the trial balance for legal entity FRRT?",
     None, C.HOW_TO, A.GENERAL_LEDGER, "FRRT", None),
    ("Timesheets for project PRJ-0042 can't be submitted, error 'worker not valid'",
     None, C.DEFECT, A.PROJECT, None, None),
    ("Payroll calculation is wrong for 14 employees in company GBPM",
     None, C.DEFECT, A.HR_PAYROLL, "GBPM", 14),
    ("Fixed asset acquisition posted without sales tax, is it possible to reverse it?",
     None, C.HOW_TO, A.FIXED_ASSETS, None, None),
    ("Bank reconciliation matching rules not working since the 10.0.38 update, 4 accountants affected",
     None, C.DEFECT, A.CASH_BANK, None, 4),
    ("Critical - Power Automate flow for vendor onboarding failing with 401 unauthorized",
     S1, C.INTEGRATION, A.ACCOUNTS_PAYABLE, None, None),
    ("Purchase order confirmations are not emailed to vendors, print management setup?",
     None, C.CONFIGURATION, A.PROCUREMENT, None, None),
    ("Everyone in shipping is blocked, wave processing hangs at release to warehouse",
     S1, C.PERFORMANCE, A.WAREHOUSE, None, None),
    ("Line stopped on the shop floor - production order 4711 cannot be reported as finished",
     S1, None, A.PRODUCTION, None, None),
    ("Can't invoice sales orders in USRT since the update, error: 'Posting profile not found'",
     S1, C.CONFIGURATION, A.SALES, "USRT", None),
    ("Low priority - the vendor search is a bit slow when filtering by name",
     S3, C.PERFORMANCE, A.ACCOUNTS_PAYABLE, None, None),
    ("Enhancement: would be nice to have a workflow for customer credit limit changes",
     S4, C.ENHANCEMENT, A.ACCOUNTS_RECEIVABLE, None, None),
    ("The whole team is blocked: security role 'Accounts payable clerk' missing after the UAT refresh",
     S1, C.ACCESS, A.PLATFORM, None, None),
    ("P3 - Financial dimension CostCenter is missing on the general journal lines",
     S3, None, A.GENERAL_LEDGER, None, None),
    ("EDI integration for sales orders times out, 2 of our planners are waiting",
     None, C.INTEGRATION, A.SALES, None, 2),
    ("Vendor invoice posting takes minutes per invoice; three AP clerks are waiting",
     None, C.PERFORMANCE, A.ACCOUNTS_PAYABLE, None, 3),
    ("sev2: free text invoices in company ussi print with the wrong logo",
     S2, C.DEFECT, A.ACCOUNTS_RECEIVABLE, "USSI", None),
    ("Our BC users can't post purchase invoices, Gen. Business Posting Group not set up for vendor 10000",
     None, C.CONFIGURATION, A.ACCOUNTS_PAYABLE, None, None),
    ("Business Central: item journal won't post, Inventory Posting Setup missing for location BLUE",
     None, C.CONFIGURATION, A.INVENTORY, None, None),
    ("Approx. 40 users cannot print picking lists since this morning, no workaround",
     S1, None, A.WAREHOUSE, None, 40),
    ("LE DEMF: fixed asset depreciation proposal throws an error",
     None, C.DEFECT, A.FIXED_ASSETS, "DEMF", None),
    ("Customer payments via lockbox aren't posting, the collections team of 6 people can't work",
     None, C.DEFECT, A.ACCOUNTS_RECEIVABLE, None, 6),
    ("Month end close: accruals posted to the wrong period in dataAreaId = frrt, not urgent",
     S3, C.DEFECT, A.GENERAL_LEDGER, "FRRT", None),
    ("RFQ replies from suppliers are not imported via the API, when you have time",
     S3, C.INTEGRATION, A.PROCUREMENT, None, None),
    ("We weren't trained on cycle counting on the mobile device, could someone show me?",
     None, C.TRAINING, A.WAREHOUSE, None, None),
]
# fmt: on


def parse(text: str) -> IssueDraft:
    return parse_issue_draft(text)


@pytest.mark.parametrize(("text", "severity", "category", "area", "company", "users"), LABELLED)
def test_labelled_messages(
    text: str,
    severity: Severity | None,
    category: Category | None,
    area: Area | None,
    company: str | None,
    users: int | None,
) -> None:
    draft = parse(text)
    assert (draft.severity, draft.category, draft.area, draft.company, draft.affected_users) == (
        severity,
        category,
        area,
        company,
        users,
    )
    assert draft.description == text.strip()
    assert 0 < len(draft.title) <= TITLE_MAX


def test_the_table_is_big_enough_to_mean_something() -> None:
    assert len(LABELLED) >= 40
    assert {row[2] for row in LABELLED} >= set(Category)
    assert {row[3] for row in LABELLED} >= set(Area)


# --- Severity


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("sev1 posting is down", S1),
        ("Sev 2 for now", S2),
        ("sev-3 please", S3),
        ("severity: 2", S2),
        ("severity 4", S4),
        ("S1 in the warehouse", S1),
        ("this is P2", S2),
        ("prio 1 please", S1),
        ("priority 2", S2),
        ("priority: high", S2),
        ("priority: critical", S1),
        ("Priority highest", S1),
        ("priority: medium", S3),
        ("priority normal", S3),
        ("priority: low", S4),
        ("priority lowest", S4),
        ("sev10 is not a severity", None),
        ("see page p 2 of the guide", None),
        ("a minority of lines", None),
        ("this is a showstopper", S1),
        ("emergency in the warehouse", S1),
        ("major issue with the layout", S2),
        ("minor issue with the layout", S3),
        ("nice to have: a second address line", S4),
        ("wishlist item for later", S4),
    ],
)
def test_explicit_markers_and_marker_words(text: str, severity: Severity | None) -> None:
    assert parse(text).severity == severity


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("nobody in AP can post", S1),
        ("no one in the warehouse can pick", S1),
        ("nobody is able to log in", S1),
        ("the whole team is blocked", S1),
        ("all users in finance are blocked", S1),
        ("production stopped in plant 2", S1),
        ("we cannot ship to customers", S1),
        ("we can't invoice anything", S1),
        ("we can't seem to post anything", S1),
        ("there is no workaround", S1),
        ("the system is completely down", S1),
        ("we use a workaround for now", S2),
        ("just a cosmetic thing", S3),
        ("spelling of the field label", S3),
        ("when you have time, please check", S3),
        ("low impact on AP", S3),
        ("it would help if the list was sorted", S4),
        ("would be nice to filter by date", S4),
        ("posting takes a while", None),
    ],
)
def test_phrases(text: str, severity: Severity | None) -> None:
    assert parse(text).severity == severity


def test_a_gap_holds_at_most_four_words() -> None:
    assert parse("nobody in the AP team can post").severity == S1
    assert parse("nobody in the AP team today can post").severity is None


def test_a_gap_does_not_cross_a_sentence_end() -> None:
    assert parse("Nobody knows. Can you check the setup?").severity is None


def test_explicit_marker_beats_marker_word_which_beats_phrase() -> None:
    assert parse("sev3 - critical for the month end close").severity == S3
    assert parse("minor: nobody can change the font colour").severity == S3
    assert parse("nobody can change the font colour").severity == S1


def test_within_a_tier_the_most_severe_wins() -> None:
    assert parse("major, maybe even critical").severity == S1
    assert parse("sev3 or sev2?").severity == S2
    assert parse("we have a workaround but nobody in AR can post").severity == S1


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("not a blocker", None),
        ("this is not critical", None),
        ("not really a blocker", None),
        ("this isn't urgent", S3),
        ("it’s not urgent", S3),
        ("not urgent at all", S3),
        ("not a sev1, more of a question", None),
        ("definitely not P1", None),
        ("there is no workaround", S1),
        ("we don't have a workaround", S1),
        ("we have a workaround", S2),
        ("without a workaround we are stuck", S1),
        ("nobody can post, urgent", S1),
        ("we can't post - urgent", S1),
        ("no, this is a blocker", S1),
        ("it isnt critical", None),
        ("this wasn't an emergency", None),
        ("it doesn’t look critical", None),
        ("hardly urgent", None),
        ("never critical", None),
    ],
)
def test_negation(text: str, severity: Severity | None) -> None:
    assert parse(text).severity == severity


def test_negation_reaches_three_words_back_only() -> None:
    assert parse("not sure but this is critical").severity == S1
    assert parse("not this critical").severity is None


def test_normalisation_before_matching() -> None:
    assert parse("We CAN’T   SHIP").severity == S1
    assert parse("we cant ship").severity == S1
    assert parse("“URGENT”").severity == S1


# --- Category and area


def test_longer_phrases_win_where_they_overlap() -> None:
    assert parse("sales tax on the invoice").area == A.TAX
    assert parse("sales order is stuck").area == A.SALES
    assert parse("production environment is slow").area == A.PLATFORM
    assert parse("vendor payment journal").area == A.ACCOUNTS_PAYABLE


def test_acronyms_count_only_with_their_case() -> None:
    assert parse("PO 4500123 cannot be confirmed").area == A.PROCUREMENT
    assert parse("the POs of today").area == A.PROCUREMENT
    assert parse("so the po is missing").area is None
    assert parse("AR aging looks odd").area == A.ACCOUNTS_RECEIVABLE
    assert parse("ar aging looks odd").area == A.ACCOUNTS_RECEIVABLE  # "aging" alone says AR


def test_vendor_alone_means_accounts_payable() -> None:
    assert parse("vendor is blocked").area == A.ACCOUNTS_PAYABLE


def test_ties_follow_the_order_in_the_vocabulary() -> None:
    # access and defect both score 1; access is listed first
    assert parse("error: permission").category == C.ACCESS
    # procurement ("purchase") and AP ("vendor") both score 1; AP is listed first
    assert parse("purchase from vendor").area == A.ACCOUNTS_PAYABLE


# --- Company


@pytest.mark.parametrize(
    ("text", "company"),
    [
        ("posting fails in company usmf", "USMF"),
        ("legal entity: DEMF", "DEMF"),
        ("entity GBSI only", "GBSI"),
        ("dataareaid = frrt", "FRRT"),
        ("in company code USMF", "USMF"),
        ("legal entity is JPMF", "JPMF"),
        ("company (DEMF)", "DEMF"),
        ("company CRONUSUK in Business Central", "CRONUSUK"),
        ("LE ITCO", "ITCO"),
        ("posting fails in USMF", "USMF"),
        ("posting fails in usmf", None),
        ("nobody in AP can post", None),
        ("company AP is broken", None),
        ("the company is down", None),
        ("a company-wide setting", None),
        ("the company has 3 plants", None),
        ("company cronusuk", None),
        ("company 1000", None),
        ("data entity CustomersV3 fails", None),
        ("le client ne peut pas payer", None),
        ("le prix est faux", None),  # "le" is also French: lower-case codes after it don't count
        ("company", None),
    ],
)
def test_company(text: str, company: str | None) -> None:
    assert parse(text).company == company


# --- Affected users


@pytest.mark.parametrize(
    ("text", "users"),
    [
        ("20 users cannot post", 20),
        ("all 35 users in AP", 35),
        ("this affects 12 people", 12),
        ("12 colleagues are waiting", 12),
        ("5 of us are stuck", 5),
        ("three users reported it", 3),
        ("a dozen users", 12),
        ("100+ users", 100),
        ("1,200 users", 1200),
        ("affected users: 15", 15),
        ("10 invoices for 3 users", 3),
        ("5 users in AR and 30 users in AP", 30),
        ("the whole team", None),
        ("everyone is waiting", None),
        ("invoice 12345 fails", None),
        ("10 invoices are stuck", None),
        ("0 users", None),
        ("1,000,000 users", None),
        ("version 10.5 users", None),
    ],
)
def test_affected_users(text: str, users: int | None) -> None:
    assert parse(text).affected_users == users


# --- Title


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("sev1 - nobody can post", "Nobody can post"),
        ("[P1] nobody can post", "Nobody can post"),
        ("S2: nobody can post", "Nobody can post"),
        ("URGENT: nobody can post", "Nobody can post"),
        ("Sev 2 – nobody can post", "Nobody can post"),
        ("P1/ nobody can post", "Nobody can post"),
        ("severity 3: nobody can post", "Nobody can post"),
        ("priority: high - nobody can post", "Nobody can post"),
        ("[URGENT] [P1] Hi team, nobody can post", "Nobody can post"),
        ("(sev2) nobody can post", "Nobody can post"),
        ("Critical error when posting", "Critical error when posting"),
        ("Posting fails. Details: see screenshot", "Posting fails"),
        ("Is the posting profile wrong? It used to work", "Is the posting profile wrong?"),
        ("Fails for vendors, e.g. 1001 and 1002. Since Monday", "Fails for vendors, e.g. 1001 and 1002"),
        ("Fails i.e. nothing posts. Since Monday", "Fails i.e. nothing posts"),
        ("Since 10.0.38 the rate of 1.5 is ignored. Help", "Since 10.0.38 the rate of 1.5 is ignored"),
        ("invoice no. 4711 is stuck. Please check", "Invoice no. 4711 is stuck"),
        ("first line\nsecond line", "First line"),
        ("Hello,\nnobody can post", "Nobody can post"),
        ("Sev1\nNobody can post", "Nobody can post"),
        ("sev1", "Sev1"),
        ("<at>Hypercare</at> nobody can post", "Hypercare nobody can post"),
        ("   posting   fails\tagain   ", "Posting fails again"),
    ],
)
def test_title(text: str, title: str) -> None:
    assert parse(text).title == title


def test_long_title_is_cut_at_a_word_boundary() -> None:
    words = " ".join(f"word{number}" for number in range(60))
    title = parse(words).title
    assert len(title) <= TITLE_MAX
    assert title.endswith("…")
    kept = title.removesuffix("…")
    assert words.startswith(kept[0].lower() + kept[1:])
    assert words[len(kept)] == " "


def test_long_word_is_cut_hard() -> None:
    title = parse("x" * 500).title
    assert title == "X" + "x" * (TITLE_MAX - 2) + "…"


# --- Cleaning, odd input


def test_markup_leftovers_are_removed_and_decoded_entities_kept() -> None:
    text = "<div><at>Hypercare Bot</at>\u00a0sev2 -\u00a0R&D vendor invoices fail<br>details: x < y, <ItemId> empty"
    draft = parse(text)
    assert draft.description == "Hypercare Bot sev2 - R&D vendor invoices fail\ndetails: x < y, <ItemId> empty"
    assert draft.title == "Hypercare Bot sev2 - R&D vendor invoices fail"
    assert (draft.severity, draft.area) == (S2, A.ACCOUNTS_PAYABLE)


def test_control_characters_and_blank_lines_are_tidied() -> None:
    draft = parse("\ufeffsev1\x00 -\u200b nobody can post\r\n\r\n\r\n\r\nsecond\tparagraph  ")
    assert draft.description == "sev1 - nobody can post\n\nsecond paragraph"
    assert draft.title == "Nobody can post"


@pytest.mark.parametrize("text", ["", " ", "\n\t \r\n", "\u00a0\u200b", "<at></at>", "<p></p>"])
def test_empty_text_gives_an_empty_draft(text: str) -> None:
    assert parse(text) == IssueDraft()


def test_german_text() -> None:
    draft = parse("Dringend: Niemand in der Kreditorenbuchhaltung kann Rechnungen buchen 🔥")
    assert draft.title == "Niemand in der Kreditorenbuchhaltung kann Rechnungen buchen 🔥"
    assert (draft.severity, draft.area) == (S1, A.ACCOUNTS_PAYABLE)


def test_french_text() -> None:
    draft = parse("Urgent : personne ne peut valider les factures fournisseur dans la société FRRT. Merci")
    assert draft.title == "Personne ne peut valider les factures fournisseur dans la société FRRT"
    assert (draft.severity, draft.area, draft.company) == (S1, A.ACCOUNTS_PAYABLE, "FRRT")


def test_accents_and_emoji_do_not_disturb_matching() -> None:
    draft = parse("🔥🔥 sev2 🔥 Überweisungen: the bank file is rejected 😡 für 7 Benutzer")
    assert (draft.severity, draft.category, draft.area, draft.affected_users) == (
        S2,
        C.INTEGRATION,
        A.CASH_BANK,
        7,
    )
    assert draft.title.startswith("🔥🔥 sev2")


def test_very_long_text_is_capped() -> None:
    text = "sev2 - " + "the vendor invoice posting fails again and again " * 400
    draft = parse(text)
    assert DESCRIPTION_MAX - 20 < len(draft.description) <= DESCRIPTION_MAX
    kept = draft.description.removesuffix("…")
    assert text.startswith(kept) and text[len(kept)] == " "  # cut at a word boundary
    assert len(draft.title) <= TITLE_MAX
    assert (draft.severity, draft.area) == (S2, A.ACCOUNTS_PAYABLE)


@pytest.mark.parametrize(
    "text",
    [
        "\x00\x01\x02",
        "\ud800 lone surrogate",
        "🔥" * 5000,
        "nobody " + "-" * 50_000 + " can",
        "nobody" + " x" * 50_000 + " can",
        "1" * 20_000 + " users",
        "company " + "a" * 5_000,
        "<" * 10_000 + ">" * 10_000,
        "... ... ...",
        "sev",
        "İstanbul ß ﬁ ǅ",
        "\u202eright to left\u202c",
    ],
)
def test_odd_input_never_raises(text: str) -> None:
    draft = parse(text)
    assert len(draft.title) <= TITLE_MAX
    assert len(draft.description) <= DESCRIPTION_MAX
    assert IssueDraft.model_validate(draft.model_dump()) == draft


# --- Vocabulary file


def test_the_default_vocabulary_is_loaded_once() -> None:
    vocabulary = load_vocabulary()
    assert isinstance(vocabulary, Vocabulary)
    assert load_vocabulary() is vocabulary
    assert vocabulary.source == DEFAULT_VOCABULARY_PATH


def write_vocabulary(tmp_path: Path, replace: str, by: str) -> Path:
    text = DEFAULT_VOCABULARY_PATH.read_text(encoding="utf-8")
    assert text.count(replace) == 1
    path = tmp_path / "vocabulary.toml"
    path.write_text(text.replace(replace, by, 1), encoding="utf-8")
    return path


def test_a_custom_vocabulary_changes_the_result(tmp_path: Path) -> None:
    path = write_vocabulary(tmp_path, "known = [\n", 'known = [\n    "ACME",\n')
    text = "zahlungslauf in ACME failed"
    assert parse(text).company is None
    assert parse_issue_draft(text, load_vocabulary(path)).company == "ACME"


def test_a_custom_vocabulary_can_add_phrases(tmp_path: Path) -> None:
    path = write_vocabulary(tmp_path, "cash_bank = [\n", 'cash_bank = [\n    "zahlungslauf",\n')
    assert parse("zahlungslauf stuck").area is None
    assert parse_issue_draft("zahlungslauf stuck", load_vocabulary(path)).area == A.CASH_BANK


@pytest.mark.parametrize(
    ("replace", "by", "problem"),
    [
        ("[category.keywords]\nhow_to = [", "[category.keywords]\nhowto = [", "unknown category 'howto'"),
        ('AP = "accounts_payable"', 'AP = "payables"', "unknown area 'payables'"),
        ("[severity.phrases]\nsev1 = [", "[severity.phrases]\nsev5 = [", "unknown severity 'sev5'"),
        ("high = 2", "high = 7", "'high' must be a whole number from 1 to 4"),
        ('"nobody ... can",', '"nobody can ...",', "cannot end with '...'"),
        ('"cosmetic",', '"cos*metic",', "'*'"),
        ('"cosmetic",', '"cosmetic", "cosmetic",', "listed more than once"),
        ("window = 3", "window = 3\nwindwo = 2", "unknown key(s): windwo"),
        ("window = 3", "", "missing key 'window'"),
        ("window = 3", 'window = "three"', "'window' must be a whole number"),
        ('"USMF", ', '"usmf", ', "'known' companies"),
        ('order = ["accounts_payable", ', "order = [", "must list every area exactly once"),
        ("[title]", "[title", "not valid TOML"),
    ],
)
def test_a_malformed_vocabulary_is_refused(tmp_path: Path, replace: str, by: str, problem: str) -> None:
    path = write_vocabulary(tmp_path, replace, by)
    with pytest.raises(VocabularyError) as raised:
        load_vocabulary(path)
    assert str(path) in str(raised.value)
    assert problem in str(raised.value)


def test_a_missing_vocabulary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(VocabularyError, match="cannot read"):
        load_vocabulary(path)
