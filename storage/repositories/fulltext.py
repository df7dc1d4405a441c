"""Full-text search: the terms that runbooks.py and similar.py ask the database for, and how it ranks them.

The search structures come from migration 6e4c5a8cf4ae and are kept current by the database:

* SQLite: one FTS5 table `search_fts(title, body, fix)` for issues *and* runbooks (rowid 2*id for an
  issue, 2*id+1 for a runbook), Porter stemming over unicode61, filled by triggers on `issues` and
  `runbooks`. Ranked with `bm25()`, title weighted above the description and the fix. One table, so
  issues and runbooks are scored against the same term statistics and can be ranked together.
* PostgreSQL: a generated `search_vector` column on `issues` and `runbooks`
  (`to_tsvector('english')`, title weight A, description/symptoms B, notes/steps C) with a GIN index,
  found with `@@` and ranked with `ts_rank` normalised by document length (option 1), so a long
  description that repeats a word does not beat a short, exact one.
  `ts_rank`, not `ts_rank_cd`: cover density rewards query terms that occur *close together*; with an
  OR query every single occurrence of any term is already a "cover", so it degenerates into counting
  occurrences, and a document repeating "tax" beats the one sharing "VAT", "rate" and "November".
  `ts_rank` rewards sharing more of the query's distinct words. On the test set (tests/integration/
  test_search.py, 43 new reports) ts_rank puts the right fix first 43 times; ts_rank_cd 41 with the
  same weights, 42 at best over the weights and normalisations tried (36 at worst).
  'english' rather than 'simple' + our own stemming: Snowball stemming and its stop list are what we
  would otherwise write by hand, it agrees with SQLite's Porter stemmer on what counts as the same word
  ("posting"/"posted", "invoices"/"invoice"), and 'simple' put the right fix first only 41 times.

The query is never the user's text. `search_terms` extracts words (letters and digits only), drops stop
words and hypercare filler ("issue", "error", "users"…), adds a few domain synonyms ("supplier" →
"vendor", "bill" → "invoice", "log in" → "login"…), and the database gets an OR of those terms:
`"vendor" OR "invoice"` for FTS5 (each term quoted, so no FTS5 operator can be formed) and
`vendor or invoice` for `websearch_to_tsquery` (which accepts any input without a syntax error).
OR, not AND: a new report shares only part of its words with the past issue that solves it; the
ranking puts the documents that share the most, and the rarest (bm25), first.
"""

from __future__ import annotations

import re

MAX_TERMS = 32
MAX_TERM_LENGTH = 40
# Only so much of a pasted log is worth reading for words.
MAX_TEXT_SCANNED = 20_000

# bm25() column weights for search_fts(title, body, fix).
BM25 = "bm25(search_fts, 3.0, 1.0, 1.0)"
# ts_rank weights for D, C, B, A (unused, notes/steps, description/symptoms, title); normalisation
# 1 divides by 1 + log(document length).
_PG_WEIGHTS = "'{0.1, 0.4, 0.4, 1.0}'::float4[]"


def pg_rank(vector: str) -> str:
    return f"ts_rank({_PG_WEIGHTS}, {vector}, q.query, 1)"


PG_QUERY = "SELECT websearch_to_tsquery('english', :terms) AS query"

# English function words, and words nearly every hypercare report contains and that say nothing about
# *which* problem it is. bm25 discounts common words on its own; ts_rank does not, hence the list.
# (It contains PostgreSQL's English stop list, so the database never gets a query of stop words only.)
STOP_WORDS = frozenset(
    """
    a about above after again against all already also am an and any anyone anything are aren arent as at
    be because been before being below between both but by can cannot cant could couldn d did didn didnt
    do does doesn doesnt doing don dont down during each either else even ever every everyone everything
    few for from further had hadn has hasn hasnt have haven havent having he her here hers herself him
    himself his how however i if in into is isn isnt it its itself just let ll m me might more most much
    must mustn my myself need needs neither no nobody nor not now o of off on once one only or other our
    ours ourselves out over own re s same shall shan she should shouldn since so some someone something
    still such t than that the their theirs them themselves then there these they this those though
    through to too under until up upon us ve very via was wasn wasnt we were weren what when where which
    while who whom why will with won wont would wouldn y yet you your yours yourself yourselves
    able unable anymore please pls thanks thank hi hello hey help team today yesterday morning afternoon
    tonight week urgent urgently asap issue issues problem problems error errors message
    get gets getting got seems seem seemed keep keeps kept try tried trying see saw says said say
    user users people everybody work works working worked happen happens happening happened
    d365 dynamics microsoft sev sev1 sev2 sev3 sev4 p1 p2 p3 p4 severity priority go live golive
    """.split()
)

# Groups of words a reporter uses for the same thing; any one of them in the text searches for all.
_SYNONYM_GROUPS = [
    ("vendor", "supplier"),
    ("invoice", "bill"),
    ("customer", "client"),
    ("login", "logon", "signin"),
    ("mfa", "2fa", "multifactor", "authenticator"),
    ("tax", "vat", "gst"),
    ("reconciliation", "reconcile", "reconciling", "rec"),
    ("payment", "pay", "paying"),
    ("ledger", "gl"),
    ("payable", "ap"),
    ("receivable", "ar"),
    ("purchase", "po", "purchasing"),
    ("mrp", "planning"),
    ("bom", "formula"),
    ("printer", "print", "printing", "printed"),
    ("email", "mail", "smtp"),
    ("sync", "synchronize", "synchronise", "syncing"),
    ("shipment", "ship", "shipping", "dispatch"),
    ("item", "product", "sku"),
    ("permission", "permissions", "rights", "privilege"),
    ("slow", "sluggish", "performance"),
    ("stuck", "hangs", "hanging", "frozen"),
    ("fx", "exchange"),
    ("qty", "quantity"),
]
SYNONYMS: dict[str, tuple[str, ...]] = {
    word: tuple(other for other in group if other != word) for group in _SYNONYM_GROUPS for word in group
}
# Phrases that also stand for one word: "log in", "signing on", "sign-in" add "login" (the words themselves
# stay, documents may say "log in" too); "bill of materials" becomes "bom" (so "bill" does not add "invoice").
_PHRASES = [
    (re.compile(r"\b(?:log|logg|sign)(?:s|ed|ing)?[\s-]*(?:in|on)\b"), r"\g<0> login "),
    (re.compile(r"\bbills?\s+of\s+materials?\b"), " bom materials "),
    (re.compile(r"\bmulti[\s-]*factor\b"), r"\g<0> multifactor "),
    (re.compile(r"\be-mail\b"), r"\g<0> email "),
]
# Letters and digits: nothing that FTS5 or tsquery could read as an operator, quote or prefix.
_WORD = re.compile(r"[^\W_]+")


def search_terms(text_: str) -> list[str]:
    """The words of `text_` worth searching for, with their synonyms, at most MAX_TERMS, in order."""
    lowered = text_[:MAX_TEXT_SCANNED].casefold()
    for pattern, replacement in _PHRASES:
        lowered = pattern.sub(replacement, lowered)
    terms: list[str] = []
    seen: set[str] = set()
    for word in _WORD.findall(lowered):
        if word in STOP_WORDS or len(word) > MAX_TERM_LENGTH or len(word) < 2:
            continue
        if word.isdigit() and len(word) < 3:  # "12 users", "sev 1"
            continue
        synonyms = SYNONYMS.get(word) or (SYNONYMS.get(word[:-1], ()) if word.endswith("s") else ())
        for term in (word, *synonyms):
            if term not in seen:
                seen.add(term)
                terms.append(term)
        if len(terms) >= MAX_TERMS:
            break
    return terms[:MAX_TERMS]


def fts5_query(terms: list[str]) -> str:
    """`"vendor" OR "invoice"`: every term a quoted string (quotes doubled), so no operator can form."""
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


def tsquery_text(terms: list[str]) -> str:
    """`vendor or invoice` for websearch_to_tsquery; "or" itself is a stop word, never a term."""
    return " or ".join(terms)
