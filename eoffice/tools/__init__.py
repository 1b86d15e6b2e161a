"""Command-line tools for operators: `python -m eoffice.tools.<name> --help`."""
