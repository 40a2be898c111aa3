"""How far the offline judge's features go on SemEval, and where the rest would come from.

The acceptance asks for an AUC of 0.80 on SemEval-2013 training with whole questions held
out; the fitted judge gives about 0.77. This script fits the same logistic regression on
the SemEval rows alone (the most favourable case: nothing else to agree with) and adds, one
at a time, what a judge could be given:

- `+ corpus (oracle)`: whether the answer is Beetle's or SciEntsBank's. No real set says
  so; it measures how much of the gap is the two corpora's grades sitting differently
  against the same features.
- `+ peers`: each feature less its mean over the other answers to the same question
  (transductive: a batch could compute it, an interview with one answer could not).
- `+ references`: how many references the question gives (Beetle several, SciEntsBank one:
  the best of several similarities is higher, whatever the answer).
- `+ interactions`: |answer - reference| of the USE vectors, reduced to 8 components
  (fitted without labels), as sentence-pair classifiers use.

For each: the AUC with whole questions held out (10-fold GroupKFold), with a whole corpus
held out (fit on one, grade the other), and how well the same features tell the two
corpora apart (AUC, questions held out): a gain that comes with features that tell the
corpora apart, and loses when a whole corpus is held out, learnt the corpus, not the
grading. The naive baseline (share of the reference's words in the answer) is printed
from the same rows.

    pip install -e '.[fit]'
    python -m benchmarks.fit_offline --dry-run --keep-misconception-rule --rows rows.npz
    python -m benchmarks.ceiling --rows rows.npz
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.fit_offline import ASAG, _judge, read_jsonl
from interviewer.judge.contradiction import contradicts

FOLDS = 10


def _logistic(x: np.ndarray, y: np.ndarray, test: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    model = LogisticRegression(C=0.1, max_iter=5000).fit((x - mean) / scale, y)
    out: np.ndarray = model.predict_proba((test - mean) / scale)[:, 1]
    return out


def measure(x: np.ndarray, y: np.ndarray, corpus: np.ndarray, group: np.ndarray) -> list[float]:
    """AUC with questions held out, Beetle held out, SciEntsBank held out, and the AUC of
    telling Beetle from SciEntsBank with questions held out."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    beetle = corpus == "beetle"
    p, q = np.zeros(len(y)), np.zeros(len(y))
    for train, test in GroupKFold(n_splits=FOLDS).split(x, y, group):
        p[test] = _logistic(x[train], y[train], x[test])
        q[test] = _logistic(x[train], beetle[train], x[test])
    out = [float(roc_auc_score(y, p))]
    for held in (beetle, ~beetle):
        out.append(float(roc_auc_score(y[held], _logistic(x[~held], y[~held], x[held]))))
    out.append(float(roc_auc_score(beetle, q)))
    return out


def _peers(x: np.ndarray, group: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x)
    for g in np.unique(group):
        at = group == g
        out[at] = x[at] - x[at].mean(axis=0)
    return out


def _interactions(rows: list[dict[str, Any]]) -> np.ndarray:
    """|answer - reference| of the USE vectors, against the reference the judge grades by
    (the nearest the answer does not contradict), reduced to 8 components."""
    from sklearn.decomposition import PCA

    encoder = _judge().encoder
    refs = [list(r["references"]) or [r["reference"]] for r in rows]
    texts = sorted({t for r, rs in zip(rows, refs, strict=True) for t in (r["answer"], *rs)})
    vectors = dict(zip(texts, encoder.encode(texts), strict=True))
    diffs = []
    for r, rs in zip(rows, refs, strict=True):
        a = vectors[r["answer"]]
        fair = [t for t in rs if not contradicts(r["answer"], t, r["question"])] or rs
        best = max(fair, key=lambda t: float(vectors[t] @ a))
        diffs.append(np.abs(a - vectors[best]))
    out: np.ndarray = PCA(8, random_state=0).fit_transform(np.asarray(diffs))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=Path, required=True, help="rows saved by fit_offline")
    parser.add_argument("--data", type=Path, default=ASAG, help="folder of shared/asag")
    args = parser.parse_args()
    saved = np.load(args.rows)
    source = saved["source"].astype(str)
    semeval = np.char.startswith(source, "semeval")
    rows = read_jsonl(args.data / "semeval2013-train.jsonl")
    if int(semeval.sum()) != len(rows) or not semeval[: len(rows)].all():
        raise SystemExit(f"{args.rows} does not start with the {len(rows)} SemEval rows")
    x, y = saved["x"][: len(rows)], saved["y"][: len(rows)] == 1.0
    group, naive = saved["group"][: len(rows)], saved["naive"][: len(rows)]
    corpus = np.array([r["corpus"] for r in rows])
    beetle = (corpus == "beetle").astype(float)[:, None]
    n_refs = np.log([[len(r["references"]) or 1] for r in rows])
    variants = {
        "features of the judge": x,
        "+ corpus (oracle)": np.hstack([x, beetle]),
        "+ peers": np.hstack([x, _peers(x, group)]),
        "+ references": np.hstack([x, n_refs]),
        "+ interactions": np.hstack([x, _interactions(rows)]),
    }
    from sklearn.metrics import roc_auc_score

    b = corpus == "beetle"
    print(
        f"naive baseline: AUC {roc_auc_score(y, naive):.4f} "
        f"(Beetle {roc_auc_score(y[b], naive[b]):.4f}, "
        f"SciEntsBank {roc_auc_score(y[~b], naive[~b]):.4f})"
    )
    print(f"{'SemEval rows only':24} {'questions':>9} {'Beetle':>7} {'SciEnts':>7} {'corpus':>7}")
    for name, features in variants.items():
        auc, held_b, held_s, tells = measure(features, y, corpus, group)
        print(f"{name:24} {auc:9.4f} {held_b:7.4f} {held_s:7.4f} {tells:7.3f}")
    print(
        "questions: whole questions held out; Beetle / SciEnts: that corpus held out, fitted "
        "on the other; corpus: the AUC of telling the corpora apart from the same features"
    )


if __name__ == "__main__":
    main()
