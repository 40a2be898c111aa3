"""The wrap-up report: overall and per-question scores, per-topic averages, strengths,
missed key points with the part of the reference answer that covers them, what to study."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from interviewer.bank.bank import Bank
from interviewer.bank.schema import KeyPoint, Rubric
from interviewer.interview.state import Finished
from interviewer.judge import progress
from interviewer.judge.schema import Grade
from interviewer.judge.text import find_terms, split_units

STRONG = 75.0


def reference_excerpts(rubric: Rubric, lang: str) -> dict[str, str]:
    """Key point id -> the sentence of the reference answer that covers it.

    Each sentence goes to one key point at most: pairs (key point, sentence) are taken by
    how many of the point's evidence terms the sentence has, most first, so a sentence that
    names many terms of one point is not quoted under another point that shares a word
    with it. A point left without a sentence of its own is quoted by its own text.
    """
    reference = rubric.reference_answer.get(lang)
    sentences = [u.text for u in split_units(reference) if u.kind == "sentence"]
    pairs = []
    for k, kp in enumerate(rubric.key_points):
        terms = list(dict.fromkeys(t.casefold() for t in kp.evidence.terms()))
        for s, sentence in enumerate(sentences):
            hits = len(find_terms(terms, sentence))
            if hits:
                pairs.append((-hits, k, s))
    chosen: dict[int, int] = {}
    used: set[int] = set()
    for _, k, s in sorted(pairs):
        if k not in chosen and s not in used:
            chosen[k] = s
            used.add(s)
    return {
        kp.id: sentences[chosen[k]] if k in chosen else kp.text.get(lang)
        for k, kp in enumerate(rubric.key_points)
    }


def reference_excerpt(rubric: Rubric, kp: KeyPoint, lang: str) -> str:
    """The sentence of the reference answer that covers `kp` (see `reference_excerpts`)."""
    return reference_excerpts(rubric, lang)[kp.id]


def build_report(bank: Bank, finished: list[Finished], lang: str) -> dict[str, Any]:
    questions = []
    by_topic: dict[str, list[float]] = defaultdict(list)
    missed: list[dict[str, Any]] = []
    strengths: list[str] = []
    for item in finished:
        rubric = bank.rubric(item["question_id"])
        question = bank.question(item["question_id"])
        by_topic[item["topic"]].append(item["score"])
        verdicts = {v["key_point"]: v for v in item["merged"]["verdicts"]}
        references = reference_excerpts(rubric, lang)
        grades = [Grade.model_validate(a["grade"]) for a in item["attempts"]]
        steps = progress.running(rubric, grades, item["hinted"], "")
        # The running grade's rule: the question's score counts every answer; the main
        # answer's share and what the follow-ups added are shown beside it.
        first = round(steps[0].score, 1) if steps else item["score"]
        questions.append(
            {
                "question_id": item["question_id"],
                "topic": item["topic"],
                "difficulty": item["difficulty"],
                "prompt": question.prompt.get(lang),
                "score": item["score"],
                "skipped": item["skipped"],
                "follow_ups": sum(1 for a in item["attempts"] if a["probes"]),
                "first_answer": first,
                "from_follow_ups": round(item["score"] - first, 1),
            }
        )
        for kp in rubric.key_points:
            verdict = verdicts.get(kp.id, {}).get("verdict", "missed")
            if verdict == "covered" and item["score"] >= STRONG:
                strengths.append(kp.text.get(lang))
            elif verdict != "covered":
                missed.append(
                    {
                        "question_id": item["question_id"],
                        "key_point": kp.id,
                        "verdict": verdict,
                        "weight": kp.weight,
                        "text": kp.text.get(lang),
                        "reference": references[kp.id],
                    }
                )
    topics = {t: round(sum(s) / len(s), 1) for t, s in sorted(by_topic.items())}
    missed.sort(key=lambda m: (-m["weight"], m["question_id"]))
    study = [t for t, avg in sorted(topics.items(), key=lambda kv: kv[1]) if avg < STRONG]
    scores = [item["score"] for item in finished]
    overall = round(sum(scores) / len(scores), 1) if scores else 0.0
    return {
        "overall": overall,
        "band": band_name(overall, lang),
        "questions": questions,
        "topics": topics,
        "strengths": strengths[:8],
        "missed": missed,
        "study_next": study[:5],
    }


def band_name(score: float, lang: str) -> str:
    bands = [
        (85, "优秀", "excellent"),
        (70, "良好", "good"),
        (55, "及格", "fair"),
        (40, "薄弱", "weak"),
        (0, "需要加强", "needs work"),
    ]
    for floor, zh, en in bands:
        if score >= floor:
            return zh if lang == "zh" else en
    return bands[-1][1]


def render_text(report: dict[str, Any], lang: str) -> str:
    """The report as plain text (plain mode and exports)."""
    zh = lang == "zh"
    out = [
        "=" * 60,
        f"{'总分' if zh else 'Overall'}: {report['overall']:.0f}/100 ({report['band']})",
        "",
        "每题得分:" if zh else "Per question:",
    ]
    for q in report["questions"]:
        tag = " (跳过)" if zh and q["skipped"] else (" (skipped)" if q["skipped"] else "")
        if q.get("from_follow_ups"):
            tag += f" ({'追问' if zh else 'follow-ups'} {q['from_follow_ups']:+.0f})"
        out.append(f"  {q['score']:5.1f}  [{q['topic']}] {q['prompt'][:50]}{tag}")
    out += ["", "各主题平均:" if zh else "Per topic:"]
    for topic, avg in report["topics"].items():
        bar = "█" * int(avg // 5)
        out.append(f"  {topic:<24} {avg:5.1f} {bar}")
    if report["strengths"]:
        out += ["", "做得好的:" if zh else "Strengths:"]
        out += [f"  + {s}" for s in report["strengths"]]
    if report["missed"]:
        out += ["", "遗漏的要点:" if zh else "Missed key points:"]
        for m in report["missed"][:10]:
            out.append(f"  - {m['text']}")
            if m["reference"] != m["text"]:
                out.append(f"    {'参考' if zh else 'Reference'}: {m['reference']}")
    if report["study_next"]:
        out += ["", ("接下来复习: " if zh else "Study next: ") + ", ".join(report["study_next"])]
    out.append("=" * 60)
    return "\n".join(out)
