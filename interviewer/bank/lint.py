"""`interviewer bank lint`: rubric content that validates but grades badly.

Rules (errors unless marked):

- `short-term`: an evidence term of one CJK character (值 matches 数值, 阈值, 价值) or one
  Latin word of one or two letters ("r", "to", "os"); two letters with a capital (KV, TP,
  Wq) pass as an acronym or a symbol unless they are an everyday word case-folded (IT, OR).
- `generic-term`: an evidence term found in more than `max_share` of the bank's reference
  answers (zh and en together, one count per rubric), or an everyday word of a short list
  (result, model, 问题, 效果): a term every answer says tells no answer apart.
- `misconception-in-reference`: a misconception's evidence phrase inside its own rubric's
  reference answer or a key point's text (越多越好 in 不是越多越好): a correct answer
  would trigger it. `misconception-in-other-reference` (a warning): the phrase is in
  another question's reference answer, so a correct answer to that question may say it.
- `asked-share`: key points with `role: asked` carry less than MIN_ASKED_SHARE of the weight.
- `missing-title`, `missing-partial-if` (warnings): a key point without `title` / `partial_if`.

Everything is computed from a loaded Bank; lines are looked up afterwards, by reading only
the rubric files that have findings with the loader's line-keeping parser.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

from interviewer.bank.bank import Bank
from interviewer.bank.errors import BankError
from interviewer.bank.schema import MIN_ASKED_SHARE, Rubric, Text
from interviewer.bank.terms import HAN, DocumentFrequency, Haystack, find, normalise
from interviewer.bank.yamlmap import line_of, read_yaml

Rule = Literal[
    "short-term",
    "generic-term",
    "misconception-in-reference",
    "misconception-in-other-reference",
    "asked-share",
    "missing-title",
    "missing-partial-if",
]
Severity = Literal["error", "warning"]

WARNINGS: frozenset[Rule] = frozenset(
    {"misconception-in-other-reference", "missing-title", "missing-partial-if"}
)

DEFAULT_MAX_SHARE = 0.2
"""On the 105-rubric bank of 2026-12: 问题 is in 25% of reference answers, 数据 51%, 显存
29%, memory 37%; LoRA 16%, attention 19%, 注意力 16%, 量化 14%. A fifth flags the first
group and spares the second."""

EVERYDAY_WORDS = frozenset(
    {
        # English words any answer uses, whatever the question
        "result",
        "results",
        "model",
        "models",
        "problem",
        "problems",
        "issue",
        "method",
        "methods",
        "way",
        "thing",
        "things",
        "good",
        "better",
        "effect",
        "performance",
        "improve",
        "improvement",
        "change",
        "use",
        "data",
        "from",
        # Chinese
        "问题",
        "数据",
        "效果",
        "结果",
        "方法",
        "模型",
        "提升",
        "调整",
        "改进",
        "东西",
    }
)
"""Flagged as generic whatever their share: too common in answers, even when a bank's
reference answers happen to use them rarely (result is in 5% of them)."""

_EVERYDAY_SHORT = frozenset(
    {"an", "as", "at", "be", "by", "do", "go", "he", "if", "in", "is", "it", "me", "my"}
    | {"no", "of", "on", "or", "so", "to", "up", "us", "we", "ok", "hi"}
)
_LATIN_SHORT = re.compile(r"[A-Za-z]{1,2}")


class LintFinding(BaseModel):
    """One thing to fix in a rubric, where it is written and what to do."""

    model_config = ConfigDict(frozen=True)

    file: str  # relative to the bank folder, e.g. rubrics/lora-principle.yaml
    line: int  # 1-based; 0 when the file could not be read again
    rubric: str  # the question id
    item: str | None  # the key point or misconception id
    rule: Rule
    severity: Severity
    term: str | None = None
    message: str

    def __str__(self) -> str:
        what = f" {self.item}" if self.item else ""
        return f"{self.file}:{self.line}: {self.severity} [{self.rule}]{what}: {self.message}"


class LintReport(BaseModel):
    findings: list[LintFinding]
    errors: int
    warnings: int
    max_share: float


@dataclass(frozen=True)
class _Hit:
    """A finding before its line is known: `loc` is its path inside the rubric's YAML."""

    rubric: str
    loc: tuple[str | int, ...]
    item: str | None
    rule: Rule
    term: str | None
    message: str


# --- the rules ---------------------------------------------------------------------------


def short_term_reason(term: str) -> str | None:
    """Why `term` is too short to be evidence, or None when it is long enough."""
    text = normalise(term)
    if len(text) == 1 and HAN.fullmatch(text):
        return "one Chinese character matches inside many unrelated words"
    raw = term.strip()
    if _LATIN_SHORT.fullmatch(raw):
        if len(raw) == 2 and not raw.islower() and raw.casefold() not in _EVERYDAY_SHORT:
            return None  # an acronym or a symbol's name: KV, TP, Wq
        if len(raw) == 1:
            return "a single letter matches any variable or article of that name"
        return "a two-letter word matches everyday text (terms are matched case-folded)"
    return None


def _evidence(rubric: Rubric) -> Iterator[tuple[tuple[str | int, ...], str, str, bool]]:
    """(YAML location, item id, term, is a misconception) for every evidence term."""
    for i, kp in enumerate(rubric.key_points):
        for lang in ("zh", "en"):
            for j, t in enumerate(getattr(kp.evidence, lang)):
                yield ("key_points", i, "evidence", lang, j), kp.id, t, False
    for i, mc in enumerate(rubric.misconceptions):
        for lang in ("zh", "en"):
            for j, t in enumerate(getattr(mc.evidence, lang)):
                yield ("misconceptions", i, "evidence", lang, j), mc.id, t, True


def _term_rules(rubric: Rubric, shares: DocumentFrequency, max_share: float) -> Iterator[_Hit]:
    qid = rubric.question_id
    for loc, item, t, _ in _evidence(rubric):
        reason = short_term_reason(t)
        if reason:
            yield _Hit(
                qid,
                loc,
                item,
                "short-term",
                t,
                f"evidence {t!r} is too short: {reason}; use the term it stands for "
                "(a word of two or more characters, or the whole phrase)",
            )
            continue
        if normalise(t) in EVERYDAY_WORDS:
            yield _Hit(
                qid,
                loc,
                item,
                "generic-term",
                t,
                f"evidence {t!r} is an everyday word every answer uses; name what is specific "
                "to this point instead, or delete it",
            )
            continue
        share = shares.share(t)
        if share > max_share:
            yield _Hit(
                qid,
                loc,
                item,
                "generic-term",
                t,
                f"evidence {t!r} occurs in {share:.0%} of the bank's reference answers "
                f"(limit {max_share:.0%}), so it tells no answer apart; use a phrase specific "
                "to this point, or delete it",
            )


def _misconception_rules(rubric: Rubric, references: dict[str, Haystack]) -> Iterator[_Hit]:
    qid = rubric.question_id
    places = [("the reference answer", references[qid])]
    places += [(f"key point {kp.id}", Haystack.of(*_both(kp.text))) for kp in rubric.key_points]
    others = [(other, hay) for other, hay in references.items() if other != qid]
    for loc, item, t, is_mc in _evidence(rubric):
        if not is_mc:
            continue
        hit = next(((where, c) for where, hay in places if (c := find(t, hay))), None)
        if hit is not None:
            yield _Hit(
                qid,
                loc,
                item,
                "misconception-in-reference",
                t,
                f"misconception evidence {t!r} occurs in {hit[0]} ({hit[1]!r}), so a correct "
                "answer triggers it; use a phrase only the wrong claim says",
            )
            continue
        hit = next(((other, c) for other, hay in others if (c := find(t, hay))), None)
        if hit is not None:
            yield _Hit(
                qid,
                loc,
                item,
                "misconception-in-other-reference",
                t,
                f"misconception evidence {t!r} occurs in the reference answer of {hit[0]} "
                f"({hit[1]!r}): a correct answer may say it too; check that the phrase says "
                "the wrong claim only",
            )


def _both(text: Text) -> tuple[str, str]:
    return text.zh, text.en


def _weight_rules(rubric: Rubric) -> Iterator[_Hit]:
    qid = rubric.question_id
    share = rubric.asked_share
    if share < MIN_ASKED_SHARE:
        yield _Hit(
            qid,
            ("key_points",),
            None,
            "asked-share",
            None,
            f"key points with role: asked carry {share:.0%} of the weight (at least "
            f"{MIN_ASKED_SHARE:.0%}); weigh what the prompt asks more, or bonus points less",
        )
    for i, kp in enumerate(rubric.key_points):
        if kp.title is None:
            yield _Hit(
                qid,
                ("key_points", i, "id"),
                kp.id,
                "missing-title",
                None,
                "no title; add `title: {zh: …, en: …}`, a few words naming the subject",
            )
        if kp.partial_if is None:
            yield _Hit(
                qid,
                ("key_points", i, "id"),
                kp.id,
                "missing-partial-if",
                None,
                "no partial_if; add `partial_if: {zh: …, en: …}`, what an answer says to "
                "earn half of this point",
            )


def _references(bank: Bank) -> dict[str, Haystack]:
    """Each rubric's reference answer, both languages in one text."""
    return {qid: Haystack.of(*_both(r.reference_answer)) for qid, r in bank.rubrics.items()}


def reference_frequency(bank: Bank) -> DocumentFrequency:
    """In how many reference answers (one text per rubric) a term occurs."""
    return DocumentFrequency(list(_references(bank).values()))


def _hits(bank: Bank, max_share: float) -> Iterator[_Hit]:
    references = _references(bank)
    shares = DocumentFrequency(list(references.values()))
    for rubric in bank.rubrics.values():
        yield from _term_rules(rubric, shares, max_share)
        yield from _misconception_rules(rubric, references)
        yield from _weight_rules(rubric)


# --- lines and the report ----------------------------------------------------------------


def _rubric_file(bank: Bank, qid: str) -> str:
    for suffix in (".yaml", ".yml"):
        if (bank.root / "rubrics" / f"{qid}{suffix}").is_file():
            return f"rubrics/{qid}{suffix}"
    return f"rubrics/{qid}.yaml"


def _locate(bank: Bank, hits: Sequence[_Hit]) -> list[LintFinding]:
    data: dict[str, Any] = {}
    findings: list[LintFinding] = []
    for hit in hits:
        file = _rubric_file(bank, hit.rubric)
        if file not in data:
            try:
                data[file] = read_yaml(bank.root / file, file)
            except BankError:
                data[file] = None
        line = line_of(data[file], hit.loc) if data[file] is not None else 0
        findings.append(
            LintFinding(
                file=file,
                line=line,
                rubric=hit.rubric,
                item=hit.item,
                rule=hit.rule,
                severity="warning" if hit.rule in WARNINGS else "error",
                term=hit.term,
                message=hit.message,
            )
        )
    return sorted(findings, key=lambda f: (f.file, f.line, f.rule, f.term or ""))


RULES: tuple[Rule, ...] = get_args(Rule)


def lint_bank(
    bank: Bank,
    *,
    max_share: float = DEFAULT_MAX_SHARE,
    rules: Collection[Rule] = RULES,
) -> LintReport:
    """Every finding of the chosen rules in the bank, sorted by file and line."""
    findings = _locate(bank, [hit for hit in _hits(bank, max_share) if hit.rule in rules])
    errors = sum(1 for f in findings if f.severity == "error")
    return LintReport(
        findings=findings,
        errors=errors,
        warnings=len(findings) - errors,
        max_share=max_share,
    )
