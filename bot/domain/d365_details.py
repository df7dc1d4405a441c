"""Dynamics 365 details written in a message: document numbers and the environment it happened in.

"PO-000482 stuck in review (UAT)" names a purchase order and an environment; the issue form shows both
as editable fields. These are patterns, not vocabulary: a document number has a shape (a prefix of
capitals and digits, "APINV-000231", or a document word and a number, "invoice 88123"), and an
environment has a handful of names. "Production" alone is a module of D365 ("production order"), so it
names the environment only as "prod", "production environment/system/tenant" or "in PROD".
"""

from __future__ import annotations

import re

from bot.domain.model import DOCUMENTS_MAX as DOCUMENTS_TEXT_MAX
from bot.domain.model import Environment

__all__ = ["DOCUMENTS_MAX", "documents", "documents_text", "environment"]

# At most this many numbers, joined, fit the form's field and the column.
DOCUMENTS_MAX = 8


_ENVIRONMENTS = [
    (Environment.SANDBOX, re.compile(r"\bsandbox(?:es)?\b|\bdev(?:elopment)? (?:environment|env|box|system|tenant)\b", re.I)),
    (Environment.TEST, re.compile(r"\bUAT\b|\b(?:test|testing|QA) (?:environment|env|system|tenant|instance)\b|\bin test\b", re.I)),
    (
        Environment.PRODUCTION,
        re.compile(r"\bprod\b|\bproduction (?:environment|env|system|tenant|instance)\b|\bin PROD\b|\blive (?:environment|system)\b", re.I),
    ),
]

# "APINV-000231", "PO-000482", "INV-2024-00891", "LP00012345", "SO 001877" (a known prefix and a space).
_PREFIXED = re.compile(r"(?<![\w-])([A-Z][A-Z0-9]{1,6})(?:(-|_|/)(\d{3,}(?:[-/]\d+)*)|(\d{4,}))(?![\w-])")
_SPACED = re.compile(r"(?<![\w-])(PO|SO|TO|PR|INV|CN|RMA|FTI|GJ|JNL|EXP|PRJ|WRK|LP|LOAD|SH)[ #:]+(\d{3,}(?:-\d+)?)(?![\w-])")
# A document word and its number: "invoice 88123", "voucher no. 4711", "Rechnung 2023-118".
_NAMED = re.compile(
    r"(?<!\w)(?:(?:purchase|sales|transfer|production|return) order|invoice|inv|voucher|journal|credit note|payment|"
    r"order|rechnung|beleg|facture|factura|factuur)(?: (?:no|nr|number|num|#)\.?)?[ #:.]*(\d[\d-]{3,}\d)(?![\w-])",
    re.I,
)
# Codes with the shape of a document number that are error codes or formats, not documents.
_NOT_DOCUMENTS = re.compile(r"^(?:AADSTS|CFDI|HTTP|MT|ISO|TLS|SQL|ERR|MB|KB|GB|CAMT|PAIN|USP|FY)", re.I)


def environment(text: str) -> Environment | None:
    """The environment a message names; with several named, the least production-like wins
    ("works in prod, fails in UAT" is a UAT issue) but production when nothing else is named."""
    for env, pattern in _ENVIRONMENTS:
        if pattern.search(text):
            return env
    return None


def documents(text: str) -> tuple[str, ...]:
    """The document and voucher numbers in a message, in order of appearance, each once."""
    found: list[tuple[int, str]] = []
    for match in _PREFIXED.finditer(text):
        prefix = match.group(1)
        if _NOT_DOCUMENTS.match(prefix) or not any(char.isalpha() for char in prefix):
            continue
        found.append((match.start(), match.group()))
    found.extend((match.start(), f"{match.group(1)} {match.group(2)}") for match in _SPACED.finditer(text))
    found.extend((match.start(1), match.group(1)) for match in _NAMED.finditer(text))
    numbers: list[str] = []
    for _, number in sorted(found):
        if number not in numbers and not any(number in other or other in number for other in numbers):
            numbers.append(number)
    return tuple(numbers[:DOCUMENTS_MAX])


def documents_text(numbers: tuple[str, ...]) -> str:
    """The numbers as the form shows them: comma-separated, cut to what the field holds."""
    joined = ""
    for number in numbers:
        candidate = f"{joined}, {number}" if joined else number
        if len(candidate) > DOCUMENTS_TEXT_MAX:
            break
        joined = candidate
    return joined
