"""The workshop from the terminal: the walkthrough, demo tokens and logins, reset, and the
docs' pictures (screenshots, the scaled layout)."""
