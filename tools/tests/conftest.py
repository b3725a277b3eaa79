"""The tools' own logic, tested without running them (part of `make unit`)."""
