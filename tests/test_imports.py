"""Import cost: the pure-pydantic schemas load no judge, no numpy and no YAML loader, the
TUI's first screen loads no offline judge, and nothing loads psycopg unless a
postgresql:// database is configured (the stores import their PostgreSQL modules then). Each import runs in a fresh interpreter,
since this test process has long loaded everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

NOT_LOADED = {
    "interviewer.judge.schema": ["numpy", "interviewer.judge.offline", "ruamel.yaml"],
    "interviewer.bank.schema": ["numpy", "ruamel.yaml"],
    "interviewer.transcript.schema": ["numpy", "interviewer.judge.offline", "ruamel.yaml"],
    "interviewer.llm.types": ["numpy", "interviewer.judge"],
    "interviewer.tui.app": ["numpy", "interviewer.judge.offline", "psycopg", "interviewer.pg"],
    "interviewer.interview.session": ["psycopg", "interviewer.pg", "langgraph.checkpoint.postgres"],
    "interviewer.batch.cache": ["psycopg", "interviewer.pg"],
    "interviewer.practice.items": ["psycopg", "interviewer.pg"],
    "interviewer.cli": ["psycopg", "interviewer.pg"],
}


def loaded_by(module: str) -> set[str]:
    """The modules in sys.modules after a fresh interpreter imports `module`."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.splitlines()[-1]))


@pytest.mark.parametrize("module", sorted(NOT_LOADED))
def test_importing_loads_nothing_heavy(module: str) -> None:
    loaded = loaded_by(module)
    assert module in loaded, "the check ran in a fresh interpreter that imported the module"
    heavy = [name for name in NOT_LOADED[module] if name in loaded]
    assert not heavy, (
        f"importing {module} loads {heavy}: `python -X importtime -c 'import {module}'` shows the chain"
    )
