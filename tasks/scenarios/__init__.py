"""Teaching scenarios (issue 4)."""
