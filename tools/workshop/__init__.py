"""The workshop from the terminal: the walkthrough, demo tokens and logins, reset, screenshots."""
