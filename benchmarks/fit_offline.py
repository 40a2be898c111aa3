"""Fit the offline judge's verdict model on real graded answers, and measure it honestly.

    pip install -e '.[fit]'                      # scikit-learn, for fitting only
    python -m benchmarks.fit_offline             # cross-validate, fit, write the model
    python -m benchmarks.fit_offline --dry-run   # cross-validate and print only
    python -m benchmarks.fit_offline --only-unshared  # one misconception value, see below
    python -m benchmarks.fit_offline --keep-misconception-rule  # refit the weights only

What it is fitted on (nothing else is read):
- SemEval-2013 Task 7 training split (`shared/asag/semeval2013-train.jsonl`): each answer
  against its question's acceptable references (the best-matching one), label correct = 1,
  contradictory or incorrect = 0;
- LE's training split (`shared/asag/le-zh.jsonl`, `split == "train"`): each answer against
  its reference, the teacher's 0-1 score as a soft label;
- the calibration set's tuning half: each key point of each answer the guards let through,
  covered = 1, partial = 0.5, missed = 0.
The model is a logistic regression on standardised features (`interviewer/judge/features.py`),
soft labels given as two weighted rows, each set weighted to the same total. Thresholds
for partial and covered are chosen on a grid to maximise verdict accuracy on the
calibration tuning half plus correct-is-covered accuracy on SemEval.

How it is measured: 10-fold cross-validation that holds out whole questions (GroupKFold on
question ids, across all three sets at once), SemEval with a whole corpus held out, and
each set held out whole (fitted on the other two: the nearest thing here to a set nobody
fitted on);
each figure printed beside the naive baseline (share of the reference's words, the
question's own removed, found in the answer; character bigrams for Chinese) in the same
run. The LE eval split and the calibration held half are never read here: measure them
with `interviewer eval --external` and `interviewer eval --half held`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from interviewer.bank.bank import Bank
from interviewer.bank.calibration import load_calibration
from interviewer.bank.loader import load_bank
from interviewer.bank.schema import Question, Rubric
from interviewer.judge.adhoc import evidence_terms
from interviewer.judge.baseline import naive_score
from interviewer.judge.contradiction import graded_by
from interviewer.judge.features import (
    NAMES,
    answer_side,
    preference,
    question_side,
    target_features,
)
from interviewer.judge.offline import OfflineJudge
from interviewer.judge.text import split_units
from interviewer.judge.verdict_model import MODEL_FILE, VerdictModel

ROOT = Path(__file__).resolve().parents[1]
ASAG = ROOT.parent / "shared" / "asag"
CALIBRATION_WEIGHT = 3.0
CREDIT = {"covered": 1.0, "partial": 0.5, "missed": 0.0}


@dataclass
class Rows:
    """Feature rows with soft labels, the set each came from, and its question group."""

    x: list[np.ndarray] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    group: list[str] = field(default_factory=list)
    naive: list[float] = field(default_factory=list)

    def add(self, x: np.ndarray, y: float, source: str, group: str, naive: float) -> None:
        self.x.append(x)
        self.y.append(y)
        self.source.append(source)
        self.group.append(group)
        self.naive.append(naive)


@cache
def _judge() -> OfflineJudge:
    """The offline judge the rows are read with: its written model, or, when the code's
    features have changed since that was fitted, the written model with a zero weight for
    each new feature. Neither the features nor the guards read the weights."""
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    if tuple(data["features"]) != NAMES:
        old = {n: i for i, n in enumerate(data["features"])}
        for key, fill in (("mean", 0.0), ("scale", 1.0), ("weights", 0.0)):
            data[key] = [data[key][old[n]] if n in old else fill for n in NAMES]
        data["features"] = list(NAMES)
    return OfflineJudge(model=VerdictModel.from_dict(data))


def _features(question: str, answer: str, references: list[str]) -> np.ndarray:
    """Features against the best-matching reference the answer does not contradict (of
    all, if it contradicts every one; `graded_by`, as `interviewer grade` chooses),
    each with its own ad-hoc terms."""
    judge = _judge()
    side = answer_side(answer, split_units(answer), judge.encoder)
    q_side = question_side(question, judge.encoder)
    xs = [
        target_features(side, [ref], evidence_terms(ref), q_side, judge.encoder, reference=True)[0]
        for ref in references
    ]
    return xs[graded_by(answer, references, [preference(x) for x in xs], question)]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def collect(asag: Path, limit: int | None) -> Rows:
    rows = Rows()
    judge = _judge()
    semeval = read_jsonl(asag / "semeval2013-train.jsonl")[:limit]
    judge.encoder.encode(
        sorted({t for r in semeval for t in (r["question"], r["answer"], *r["references"])})
    )
    for r in semeval:
        refs = list(r["references"]) or [r["reference"]]
        rows.add(
            _features(r["question"], r["answer"], refs),
            float(r["label"] == "correct"),
            f"semeval-{r['corpus']}",
            f"semeval:{r['question_id']}",
            max(naive_score(r["question"], a, r["answer"]) for a in refs),
        )
    for r in read_jsonl(asag / "le-zh.jsonl")[:limit]:
        if r["split"] != "train":
            continue
        rows.add(
            _features(r["question"], r["answer"], [r["reference"]]),
            float(r["score"]),
            "le-train",
            f"le:{r['question_id']}",
            naive_score(r["question"], r["reference"], r["answer"]),
        )
    bank = load_bank(None)
    judge.learn_terms(list(bank.rubrics.values()))
    for item in load_calibration(bank.root / "calibration", bank):
        if item.half != "tune":
            continue
        q, rubric = bank.question(item.question_id), bank.rubric(item.question_id)
        for answer in item.answers:
            for kp, x in _bank_features(q, rubric, answer.text):
                ref = kp.text.zh + kp.text.en
                rows.add(
                    x,
                    CREDIT[answer.verdicts[kp.id]],
                    "calibration-tune",
                    f"calibration:{item.question_id}",
                    naive_score(q.prompt.zh + q.prompt.en, ref, answer.text),
                )
    return rows


def _bank_features(q: Question, rubric: Rubric, text: str) -> list[tuple[Any, np.ndarray]]:
    _, _, matches = _judge().analyse(q, rubric, text)
    if matches is None:
        return []
    return [
        (kp, m.features)
        for kp, m in zip(rubric.key_points, matches, strict=True)
        if m.features is not None
    ]


def _weights(source: np.ndarray, calibration_weight: float = CALIBRATION_WEIGHT) -> np.ndarray:
    """Each kind of set shares one total weight, so the small sets count as much; the
    calibration set, the only one graded key point by key point against a bank rubric,
    counts `CALIBRATION_WEIGHT` times as much."""
    w = np.ones(len(source))
    for s in np.unique(source):
        kind = s.split("-")[0]
        share = calibration_weight if kind == "calibration" else 1.0
        w[source == s] = share / np.sum([src.split("-")[0] == kind for src in source])
    out: np.ndarray = w / w.mean()
    return out


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, c: float) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / scale
    # A soft label s is two rows: positive with weight s, negative with weight 1 - s.
    zz = np.vstack([z, z])
    yy = np.concatenate([np.ones(len(y)), np.zeros(len(y))])
    ww = np.concatenate([w * y, w * (1 - y)])
    keep = ww > 0
    model = LogisticRegression(C=c, max_iter=5000).fit(zz[keep], yy[keep], sample_weight=ww[keep])
    return {
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "weights": model.coef_[0].tolist(),
        "bias": float(model.intercept_[0]),
    }


def predict(params: dict[str, Any], x: np.ndarray) -> np.ndarray:
    z = (x - np.asarray(params["mean"])) / np.asarray(params["scale"])
    out: np.ndarray = 1.0 / (1.0 + np.exp(-(z @ np.asarray(params["weights"]) + params["bias"])))
    return out


def thresholds(p: np.ndarray, y: np.ndarray, source: np.ndarray) -> tuple[float, float, float]:
    """partial_at and covered_at on a grid, for the mean of three agreements: verdict
    accuracy on the calibration tuning half, correct-is-covered accuracy on SemEval, and the
    Pearson correlation of the credit (1, ½, 0) with LE's teacher scores."""
    cal = source == "calibration-tune"
    sem = np.char.startswith(source.astype(str), "semeval")
    le = source == "le-train"
    best = (-1.0, 0.3, 0.6)
    for lo in np.arange(0.10, 0.80, 0.02):
        for hi in np.arange(lo + 0.04, 0.96, 0.02):
            label = np.where(p >= hi, 1.0, np.where(p >= lo, 0.5, 0.0))
            parts = []
            if cal.any():
                parts.append(float(np.mean(label[cal] == y[cal])))
            if sem.any():
                parts.append(float(np.mean((label[sem] == 1.0) == (y[sem] == 1.0))))
            if le.any() and np.std(label[le]) > 0:
                parts.append(float(np.corrcoef(label[le], y[le])[0, 1]))
            score = float(np.mean(parts)) if parts else 0.0
            if score > best[0]:
                best = (score, float(lo), float(hi))
    return best[1], best[2], best[0]


def cross_validate(rows: Rows, c: float, calibration_weight: float) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    x, y = np.asarray(rows.x), np.asarray(rows.y)
    source, group = np.asarray(rows.source), np.asarray(rows.group)
    naive = np.asarray(rows.naive)
    w = _weights(source, calibration_weight)
    p = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=10).split(x, y, group):
        p[test] = predict(fit(x[train], y[train], w[train], c), x[test])
    out: dict[str, Any] = {}
    sem = np.char.startswith(source.astype(str), "semeval")

    def without(held: np.ndarray) -> np.ndarray:
        """The predictions for the `held` rows of a fit on all the others."""
        return predict(fit(x[~held], y[~held], w[~held], c), x[held])

    def auc(held: np.ndarray, q: np.ndarray) -> float:
        return round(float(roc_auc_score(y[held] == 1.0, q)), 4)

    def pearson(held: np.ndarray, q: np.ndarray) -> float:
        return round(float(np.corrcoef(q, y[held])[0, 1]), 4)

    out["semeval_auc_questions_held_out"] = auc(sem, p[sem])
    out["semeval_auc_naive"] = auc(sem, naive[sem])
    for corpus in ("semeval-beetle", "semeval-sciEntsBank"):
        held = source == corpus
        out[f"{corpus}_auc_corpus_held_out"] = auc(held, without(held))
        out[f"{corpus}_auc_naive"] = auc(held, naive[held])
    for name in ("le-train", "calibration-tune"):
        s = source == name
        out[f"{name}_pearson_questions_held_out"] = pearson(s, p[s])
        out[f"{name}_pearson_naive"] = pearson(s, naive[s])
    # A whole set held out, fitted on the other two: how the fit may do on a set it never
    # saw (where a design that only learnt its sets' quirks falls below the baseline).
    out["semeval_auc_set_held_out"] = auc(sem, without(sem))
    out["semeval_auc_set_held_out_naive"] = auc(sem, naive[sem])
    for name in ("le-train", "calibration-tune"):
        s = source == name
        out[f"{name}_pearson_set_held_out"] = pearson(s, without(s))
        out[f"{name}_pearson_set_held_out_naive"] = pearson(s, naive[s])
    return out


KEEP_FLOOR = 0.95  # of the contrast set's correct near misses, charged with nothing
MISCONCEPTION_GRID = {
    "misconception_similarity": (0.4, 0.45, 0.5),
    "misconception_margin": (0.06, 0.08, 0.1, 0.12),
    "misconception_denial_lead": (0.16, 0.2, 0.25),
}


def _with_rule(model: VerdictModel, rule: dict[str, float]) -> VerdictModel:
    return replace(
        model,
        misconception_similarity=rule["misconception_similarity"],
        misconception_margin=rule["misconception_margin"],
        misconception_denial_lead=rule["misconception_denial_lead"],
        misconception_unshared_similarity=rule.get(
            "misconception_unshared_similarity", model.misconception_unshared_similarity
        ),
    )


@contextmanager
def judging(model: VerdictModel) -> Iterator[tuple[OfflineJudge, Bank]]:
    """The offline judge with the bank's terms learnt and `model` in place (the judge's own
    model again afterwards), and the bank."""
    bank = load_bank(None)
    judge = _judge()
    judge.learn_terms(list(bank.rubrics.values()))
    saved = judge.model
    judge.model = model
    try:
        yield judge, bank
    finally:
        judge.model = saved


def misconception_rule(model: VerdictModel) -> dict[str, float]:
    """When a statement asserts a misconception (`OfflineJudge._misconceptions`): the
    similarity, the lead over what is right, and the lead past which a negation word no
    longer denies the claim, chosen on the contrast set's tuning half: the highest recall of
    stated misconceptions among the rules that leave at least `KEEP_FLOOR` of the correct
    near misses alone (charging a correct answer costs its author more than missing a wrong
    claim costs the grade, so that share is a floor, not a term to trade), or, if none
    does, the rule that leaves the most. Its figures are measured with the whole rule
    (`rule_figures`)."""
    from itertools import product

    from benchmarks.contrast import measure

    best: tuple[tuple[float, float], dict[str, float]] | None = None
    with judging(model) as (judge, bank):
        for values in product(*MISCONCEPTION_GRID.values()):
            rule = dict(zip(MISCONCEPTION_GRID, values, strict=True))
            judge.model = _with_rule(model, rule)
            count = measure(judge, bank, halves=("tune",))
            recall = count[("tune", "charged")] / count[("tune", "stated")]
            keep = count[("tune", "kept")] / count[("tune", "near")]
            print(f"{rule}: tune recall {recall:.3f}, near misses kept {keep:.3f}")
            merit = (min(keep, KEEP_FLOOR), recall if keep >= KEEP_FLOOR else keep)
            if best is None or merit > best[0]:
                best = (merit, rule)
    assert best is not None
    return best[1]


UNSHARED_GRID = (0.0, 0.5, 0.55, 0.6, 0.65, 0.7, 1.01)


def unshared_rule(model: VerdictModel) -> tuple[float, dict[str, float]]:
    """How close to a claim a statement must be when it shares none of the claim's own
    words (`VerdictModel.misconception_unshared_similarity`; 1.01: such a statement is
    never charged). Chosen, after the rest of the rule, on the tuning halves of the contrast
    set and of the calibration set, for the charges that are right (stated misconceptions
    charged; misconceptions found that the calibration graders marked) minus twice the
    charges that are wrong (correct near misses charged; misconceptions found in calibration
    answers whose graders did not mark them), as `misconception_rule` holds a wrong charge
    the costlier error; of two bars as good, the higher (fewer charges). Reported on both
    halves."""
    from benchmarks.contrast import calibration_charges, measure

    best: tuple[int, float] | None = None
    with judging(model) as (judge, bank):
        for bar in UNSHARED_GRID:
            judge.model = replace(model, misconception_unshared_similarity=bar)
            c = measure(judge, bank, halves=("tune",))
            g = calibration_charges(judge, bank, halves=("tune",))
            right = c[("tune", "charged")] + g[("tune", "right")]
            wrong = c[("tune", "near")] - c[("tune", "kept")] + g[("tune", "found")]
            wrong -= g[("tune", "right")]
            print(f"unshared-word similarity {bar}: tune charges right {right}, wrong {wrong}")
            if best is None or right - 2 * wrong >= best[0]:
                best = (right - 2 * wrong, bar)
    assert best is not None
    return best[1], rule_figures(replace(model, misconception_unshared_similarity=best[1]))


def rule_figures(model: VerdictModel) -> dict[str, float]:
    """The misconception rule's figures on both halves of the contrast set (stated
    misconceptions charged, correct near misses kept) and of the calibration set (precision
    and recall of the misconceptions its graders marked)."""
    from benchmarks.contrast import calibration_charges, measure

    with judging(model) as (judge, bank):
        c, g = measure(judge, bank), calibration_charges(judge, bank)
    out = {}
    for h in ("tune", "held"):
        out[f"contrast_{h}_stated_charged"] = round(c[(h, "charged")] / c[(h, "stated")], 4)
        out[f"contrast_{h}_near_misses_kept"] = round(c[(h, "kept")] / c[(h, "near")], 4)
        out[f"calibration_{h}_misconception_precision"] = round(
            g[(h, "right")] / max(g[(h, "found")], 1), 4
        )
        out[f"calibration_{h}_misconception_recall"] = round(
            g[(h, "right")] / max(g[(h, "marked")], 1), 4
        )
    return out


def refit_unshared(dry_run: bool) -> None:
    """`--only-unshared`: choose that one value for the model as written, keep the rest."""
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    bar, metrics = unshared_rule(VerdictModel.from_dict(data))
    for k, v in metrics.items():
        print(f"{k:55} {v}")
    data["misconception_unshared_similarity"] = bar
    data["metrics"] = {**data.get("metrics", {}), **metrics}
    if not dry_run:
        MODEL_FILE.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
        print(f"wrote {MODEL_FILE}: misconception_unshared_similarity {bar}")


def full_credit(model: VerdictModel) -> tuple[float, dict[str, float]]:
    """The probability that earns a key point's whole weight (`VerdictModel.credit`),
    chosen on a grid for the mean Pearson correlation with the graders on LE's training
    split and the calibration tuning half, among the values that keep the tuning half's
    strong answers within 2 points of their human mean (a fully correct answer earns full
    marks; below it, credit follows the probability)."""
    from interviewer.judge.adhoc import adhoc_rubric

    judge = _judge()
    saved = judge.model
    judge.model = model
    try:
        le: list[tuple[float, list[float], list[float]]] = []
        for r in read_jsonl(ASAG / "le-zh.jsonl"):
            if r["split"] == "train":
                q, rubric = adhoc_rubric(r["question"], reference=r["reference"])
                _, _, m = judge.analyse(q, rubric, r["answer"])
                ps = [x.p for x in m] if m else [0.0] * len(rubric.key_points)
                le.append((float(r["score"]), [kp.weight for kp in rubric.key_points], ps))
        bank = load_bank(None)
        judge.learn_terms(list(bank.rubrics.values()))
        cal: list[tuple[float, list[float], list[float], float, bool]] = []
        for item in load_calibration(bank.root / "calibration", bank):
            if item.half != "tune":
                continue
            q, rubric = bank.question(item.question_id), bank.rubric(item.question_id)
            for a in item.answers:
                _, found, m = judge.analyse(q, rubric, a.text)
                ps = [x.p for x in m] if m else [0.0] * len(rubric.key_points)
                penalty = sum(f.penalty for f in found)
                w = [kp.weight for kp in rubric.key_points]
                cal.append((a.human_score, w, ps, penalty, a.kind == "strong"))
    finally:
        judge.model = saved

    def share(w: list[float], ps: list[float], k: float) -> float:
        return float(np.dot(w, np.minimum(1.0, np.asarray(ps) / k)) / sum(w))

    best: tuple[float, float, dict[str, float]] | None = None
    for k in np.arange(0.6, 1.001, 0.05):
        le_score = [share(w, ps, k) for _, w, ps in le]
        cal_score = [max(0.0, 100 * share(w, ps, k) - pen) for _, w, ps, pen, _ in cal]
        le_r = float(np.corrcoef([y for y, _, _ in le], le_score)[0, 1])
        cal_r = float(np.corrcoef([c[0] for c in cal], cal_score)[0, 1])
        strong = [(c[0], s) for c, s in zip(cal, cal_score, strict=True) if c[4]]
        gap = float(np.mean([h for h, _ in strong]) - np.mean([s for _, s in strong]))
        print(
            f"full credit at {k:.2f}: LE train r {le_r:.3f}, calibration tune r {cal_r:.3f}, "
            f"strong answers {gap:+.1f} below the graders"
        )
        if abs(gap) <= 2 and (best is None or le_r + cal_r > best[0]):
            metrics = {
                "full_credit_le_train_pearson": round(le_r, 4),
                "full_credit_calibration_tune_pearson": round(cal_r, 4),
            }
            best = (le_r + cal_r, round(float(k), 2), metrics)
    if best is None:
        raise SystemExit("no full-credit level keeps strong answers within 2 points")
    return best[1], best[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ASAG, help="folder of shared/asag")
    parser.add_argument("--dry-run", action="store_true", help="measure, do not write")
    parser.add_argument("--limit", type=int, default=None, help="rows per file (quick runs)")
    parser.add_argument("--rows", type=Path, default=None, help="save / reuse the rows (.npz)")
    rules = parser.add_mutually_exclusive_group()
    rules.add_argument(
        "--quick",
        action="store_true",
        help="take the misconception rule from the middle of its grid, not the contrast set",
    )
    parser.add_argument(
        "--only-unshared",
        action="store_true",
        help="choose only the unshared-word similarity, keeping the rest of the written model",
    )
    rules.add_argument(
        "--keep-misconception-rule",
        action="store_true",
        help="keep the written model's misconception rule and measure it again (the rule reads "
        "sentence similarities, not the verdict weights, so refitting these leaves it as is)",
    )
    parser.add_argument("--calibration-weight", type=float, default=CALIBRATION_WEIGHT)
    parser.add_argument("--c", type=float, default=0.1, help="inverse L2 strength")
    args = parser.parse_args()
    if args.only_unshared:
        refit_unshared(args.dry_run)
        return
    if args.rows and args.rows.exists():
        saved = np.load(args.rows)
        if saved["x"].shape[1] != len(NAMES):
            raise SystemExit(
                f"{args.rows} holds {saved['x'].shape[1]} features a row, the code computes "
                f"{len(NAMES)}: delete it and run again to collect the rows afresh"
            )
        rows = Rows(*(list(saved[k]) for k in ("x", "y", "source", "group", "naive")))
    else:
        rows = collect(args.data, args.limit)
        if args.rows:
            arrays = {k: np.asarray(getattr(rows, k)) for k in ("x", "y", "source", "group")}
            np.savez(args.rows, naive=np.asarray(rows.naive), **arrays)  # type: ignore[arg-type]
    source = np.asarray(rows.source)
    print({s: int(np.sum(source == s)) for s in np.unique(source)})
    metrics = cross_validate(rows, args.c, args.calibration_weight)
    for k, v in metrics.items():
        print(f"{k:55} {v}")
    x, y = np.asarray(rows.x), np.asarray(rows.y)
    params = fit(x, y, _weights(source, args.calibration_weight), args.c)
    partial_at, covered_at, acc = thresholds(predict(params, x), y, source)
    print(f"thresholds: partial {partial_at:.2f}, covered {covered_at:.2f} (accuracy {acc:.3f})")
    model = {
        "version": 1,
        "features": list(NAMES),
        **params,
        "partial_at": round(partial_at, 4),
        "covered_at": round(covered_at, 4),
    }
    verdicts = VerdictModel.from_dict(model)
    rule: dict[str, float]
    if args.keep_misconception_rule:
        written = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
        keys = (*MISCONCEPTION_GRID, "misconception_unshared_similarity")
        if missing := [k for k in keys if k not in written]:
            raise SystemExit(
                f"{MODEL_FILE} has no {', '.join(missing)}: fit without "
                "--keep-misconception-rule to choose the rule"
            )
        rule = {k: written[k] for k in keys}
        metrics.update(rule_figures(_with_rule(verdicts, rule)))  # measured by today's code
    elif args.quick:
        rule = {k: v[len(v) // 2] for k, v in MISCONCEPTION_GRID.items()}
        rule["misconception_unshared_similarity"] = UNSHARED_GRID[len(UNSHARED_GRID) // 2]
    else:
        rule = misconception_rule(verdicts)
        rule["misconception_unshared_similarity"], mc_metrics = unshared_rule(
            _with_rule(verdicts, rule)
        )
        metrics.update(mc_metrics)
    full_at, credit_metrics = full_credit(_with_rule(verdicts, rule))
    metrics.update(credit_metrics)
    model = {
        **model,
        **rule,
        "full_at": full_at,
        "fitted_on": (
            f"SemEval-2013 train ({int(np.sum(np.char.startswith(source.astype(str), 'semeval')))}"
            f" answers), LE train ({int(np.sum(source == 'le-train'))}), calibration tuning half "
            f"({int(np.sum(source == 'calibration-tune'))} key-point labels), {date.today()}"
        ),
        "metrics": metrics,
    }
    if not args.dry_run:
        MODEL_FILE.write_text(json.dumps(model, indent=2, ensure_ascii=False) + "\n", "utf-8")
        print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    main()
