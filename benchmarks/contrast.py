"""Misconceptions charged only when asserted: the contrast set (calibration/contrast/).

For every misconception in the bank the set has a sentence that states it and a correct
sentence worded close to it (a refutation, the true fact with roles or direction swapped,
or a true statement in the claim's words), in Chinese and English. Each sentence is graded
as an answer to its question by the offline judge:

- recall: the share of stating sentences charged with their misconception;
- near misses kept: the share of correct near misses charged with nothing.

    python -m benchmarks.contrast
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ruamel.yaml import YAML

from interviewer.bank.loader import load_bank
from interviewer.judge import offline_judge

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    bank = load_bank(None)
    judge = offline_judge()
    judge.learn_terms(list(bank.rubrics.values()))
    yaml = YAML(typ="safe")
    stated = charged = near = kept = 0
    by_kind: Counter[str] = Counter()
    kept_by_kind: Counter[str] = Counter()
    for path in sorted((ROOT / "calibration" / "contrast").glob("*.yaml")):
        for entry in yaml.load(path.read_text(encoding="utf-8")) or []:
            qid, mid = entry["question_id"], entry["misconception"]
            q, r = bank.question(qid), bank.rubric(qid)
            for lang in ("zh", "en"):
                found = {m.id for m in judge.grade(q, r, entry["states"][lang]).misconceptions}
                stated += 1
                charged += mid in found
                kind = entry["near_miss"]["kind"]
                wrong = judge.grade(q, r, entry["near_miss"][lang]).misconceptions
                near += 1
                kept += not wrong
                by_kind[kind] += 1
                kept_by_kind[kind] += not wrong
    print(f"stated misconceptions charged: {charged}/{stated} = {charged / stated:.1%}")
    print(f"correct near misses not charged: {kept}/{near} = {kept / near:.1%}")
    for kind in sorted(by_kind):
        print(f"  {kind:8} {kept_by_kind[kind]}/{by_kind[kind]} not charged")


if __name__ == "__main__":
    main()
