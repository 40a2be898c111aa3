"""Batch grading: many written answers, one judge, results and a report."""
