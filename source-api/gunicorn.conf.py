# gunicorn settings for source-api.
#
# One process with threads: the cache of Target API tokens lives in this process, so
# every request shares it and a user's simultaneous first calls share one exchange.
# (More processes would need a shared cache: see docs/source-api.md.) gthread also keeps
# client connections alive, which the sync worker does not.
import os

bind = os.environ.get("SOURCE_API_BIND", "0.0.0.0:3001")
workers = 1
worker_class = "gthread"
threads = int(os.environ.get("SOURCE_API_THREADS", "8"))
keepalive = 75
preload_app = True
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(D)sus request_id=%({x-request-id}o)s'
errorlog = "-"
control_socket_disable = True
