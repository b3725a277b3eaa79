"""The demo on this machine: the four services as local processes, `make up`/`down`/`stop`/`start`."""
