"""The four images built and the compose stack tested in containers (`make test-containers`)."""
