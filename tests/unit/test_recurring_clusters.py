"""The "write a runbook" clustering by its index of word pairs finds the groups that comparing every pair of titles
finds (single link: two titles are linked when they share two significant words)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.brief import IssueBrief
from bot.domain.metrics import SIMILAR_MIN_SHARED_WORDS, _clusters, recurring_groups, significant_words
from bot.domain.model import Area, Category, Severity, Status
from tests.support.factories import RAISED_AT

# Few words, so that titles share some often: chains, stars and near misses (one word in common) all occur.
WORDS = ["vendor", "invoice", "posting", "profile", "bank", "statement", "import", "reconciliation", "price", "order",
         "line", "zero", "the", "failed", "12", "Invoices", "PROFILE", "can't", "cant"]


def brief(number: int, title: str, area: Area, category: Category, status: Status) -> IssueBrief:
    return IssueBrief(id=1000 + number, number=number, title=title, status=status, severity=Severity.SEV3, area=area,
                      category=category, created_at=RAISED_AT, updated_at=RAISED_AT, resolve_by=None, resolved_at=None, handled_by=None,
                      escalated_at=None, awaiting_confirmation=False)


def every_pair(members: list[IssueBrief]) -> list[list[IssueBrief]]:
    """The clustering as it was until 2026-12-03: every pair of titles compared (O(n²) in a bucket)."""
    words = [significant_words(issue.title) for issue in members]
    parent = list(range(len(members)))

    def root(index: int) -> int:
        while parent[index] != index:
            index = parent[index]
        return index

    for i in range(len(members)):
        for j in range(i + 1, len(members)):
            if len(words[i] & words[j]) >= SIMILAR_MIN_SHARED_WORDS:
                a, b = root(i), root(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups: dict[int, list[IssueBrief]] = {}
    for index, issue in enumerate(members):
        groups.setdefault(root(index), []).append(issue)
    return list(groups.values())


titles = st.lists(st.sampled_from(WORDS), min_size=0, max_size=6).map(" ".join)
issues = st.lists(
    st.tuples(titles, st.sampled_from([Area.ACCOUNTS_PAYABLE, Area.SALES]),
              st.sampled_from([Category.CONFIGURATION, Category.DATA]), st.sampled_from([Status.NEW, Status.RESOLVED, Status.DUPLICATE])),
    max_size=60,
).map(lambda rows: [brief(number, *row) for number, row in enumerate(rows, start=1)])


@settings(max_examples=300, deadline=None)
@given(issues)
def test_the_word_pair_index_links_what_comparing_every_pair_links(generated: list[IssueBrief]) -> None:
    assert _clusters(generated) == every_pair(generated)


@settings(max_examples=100, deadline=None)
@given(issues)
def test_the_groups_do_not_depend_on_the_order_of_the_issues(generated: list[IssueBrief]) -> None:
    assert recurring_groups(list(reversed(generated))) == recurring_groups(generated)
