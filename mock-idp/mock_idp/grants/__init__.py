"""One module per grant; each reads top to bottom as the checks it makes."""
