"""The rules within one record: what a record breaks on its own, whatever the others say.

They are run as each file is read and validated (``repo.load``), by whichever process reads
it, while the record is fresh in memory, and what they find is cached with the file's entry
(``repo.cache.code_key`` covers the models' modules, this one with them): a record that has
not changed is not checked again. Unlike the models' validators, they leave the record valid,
so that the rules between records (``check.rules``) still see it.
"""

from __future__ import annotations

from reported_claims.model.records import ACT_STRENGTH, Claim, Record, Source, Vocabulary
from reported_claims.problems import Problem


def record_problems(record: Record, doc) -> list[Problem]:
    """The problems of a valid ``record`` read from ``doc`` (which places them) on its own."""
    out: list[Problem] = []
    if isinstance(record, Claim):
        for i, link in enumerate(record.links):
            if link.claim == record.id:
                out.append(doc.problem("self-link", ("links", i, "claim"), "a claim cannot link to itself"))
        seen: dict[str, int] = {}
        for i, r in enumerate(record.reports):
            if r.source in r.derived_from:
                j = r.derived_from.index(r.source)
                out.append(doc.problem(
                    "lineage-cycle", ("reports", i, "derived_from", j),
                    f"a passage of {r.source} cannot derive from {r.source} itself",
                ))
            if r.source in seen:
                out.append(doc.problem(
                    "duplicate-report", ("reports", i, "source"),
                    f"reports[{seen[r.source]}] already cites {r.source}; merge the two quotes with ' ... '",
                ))
            seen.setdefault(r.source, i)
        out += _claim_reports(record, doc)
    if isinstance(record, Source) and record.kind == "news-article" and record.publisher is None:
        out.append(doc.problem(
            "missing-publisher", ("kind",),
            "a news article needs `publisher`; when the text does not say who published it, use a group "
            "entity that describes the unidentified site",
        ))
    if isinstance(record, Vocabulary):
        seen_terms: set[str] = set()
        for i, t in enumerate(record.terms):
            if t.id in seen_terms:
                out.append(doc.problem("duplicate-term", ("terms", i, "id"), f"term {t.id!r} appears twice"))
            seen_terms.add(t.id)
    return out


def _claim_reports(claim: Claim, doc) -> list[Problem]:
    """The rules between a claim and its reports: who they name, how strongly, which count."""
    out = []
    claimants = {c.entity for c in claim.claimants}
    named = set()
    for i, r in enumerate(claim.reports):
        named.add(r.claimant)
        if r.claimant not in claimants:
            out.append(doc.problem(
                "unknown-claimant", ("reports", i, "claimant"),
                f"{r.claimant} is not a claimant of this claim; add it to `claimants` or name one of: "
                f"{', '.join(sorted(claimants))}",
            ))
        act = r.act or claim.act
        if ACT_STRENGTH[claim.act] <= ACT_STRENGTH["suggests"] and ACT_STRENGTH[act] > ACT_STRENGTH[claim.act]:
            out.append(doc.problem(
                "act-stronger-than-claim", ("reports", i, "act"),
                f"the claim `{claim.act}`, but this report's act is `{act}`: a report that states more strongly "
                "than the claim carries another claim; split it out",
            ))
    for i, c in enumerate(claim.claimants):
        if c.entity not in named:
            out.append(doc.problem(
                "unreported-claimant", ("claimants", i, "entity"),
                f"no report attributes the claim to {c.entity}; every claimant is named by a report's `claimant`",
            ))
    strongest = max(ACT_STRENGTH[r.act or claim.act] for r in claim.reports)
    if ACT_STRENGTH[claim.act] > strongest:
        out.append(doc.problem(
            "act-stronger-than-reports", ("act",),
            f"the claim `{claim.act}` but no report does more than `{max((r.act or claim.act for r in claim.reports), key=ACT_STRENGTH.get)}`: "
            "a statement never asserts what its reports only question or suggest",
        ))
    if claim.status != "withdrawn" and not any(r.counted for r in claim.reports):
        out.append(doc.problem(
            "no-carrying-report", ("reports",),
            "no report's quote states the claim (`fit: exact` or `narrower`); broader and partial reports are "
            "listed but do not carry it: write the statement as the quotes say it, or split the claim",
        ))
    return out
