"""The question bank, in the order its data flows:

- `schema`: the files' pydantic models (pure pydantic);
- `yamlmap`: YAML read with the line of every key, and validation errors put at those lines;
- `rules`: the rules that span files, which put the files together into a `bank.Bank`;
- `cache`: a loaded bank kept as JSON for the next start;
- `loader`: `load_bank`, the files → rules → cache flow; `calibration`: calibration answers;
- `errors`: `Problem` and `BankError`, every problem as `path:line: message`;
- `lint`, `stats`, `terms`: content checks and counts over a loaded bank.

Nothing is imported here, so that `interviewer.bank.schema` (pure pydantic) and
`interviewer.bank.bank` (the `Bank` type) load without the YAML loader.
"""
