from tests.judge.conftest import bank, judge, lora

__all__ = ["bank", "judge", "lora"]  # the judge tests' fixtures, for these tests too
