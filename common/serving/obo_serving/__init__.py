"""What every image runs beside its service: the gunicorn worker and the container healthcheck.

Nothing is imported here: the worker module must patch the standard library before anything else loads.
"""
