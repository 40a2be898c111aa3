"""The Textual TUI: set-up, interview, report, review and help screens."""
