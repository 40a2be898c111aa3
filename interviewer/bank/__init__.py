"""The question bank: schema (`bank.schema`), loading with file:line errors (`bank.loader`),
linting and statistics.

Nothing is imported here, so that `interviewer.bank.schema` (pure pydantic) loads without
the YAML loader.
"""
