"""Apps that `make bench` measures beside the services, never deployed: each one is a floor."""
