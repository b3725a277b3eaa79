# gunicorn settings for source-api.
#
# One process: the cache of Target API tokens lives in this process, so every request
# shares it and a user's simultaneous first calls share one exchange. (More processes
# would need a shared cache: see docs/apis.md, "The cache".) SOURCE_API_WORKERS sets more, for
# the fault tests: each process then exchanges on its own for a user token it has not
# seen, which is correct but no longer one exchange a user. The gevent worker serves each
# connection in a greenlet and keeps client connections alive, which the sync worker
# does not.
import os

# First: the gevent worker, which patches the standard library before the application is
# loaded (see its module). Installed with obo_serving, in every image and in the virtual environment.
from obo_serving import gunicorn_worker

bind = os.environ.get("SOURCE_API_BIND", "0.0.0.0:3001")
workers = int(os.environ.get("SOURCE_API_WORKERS", "1"))
# A slow or silent client holds a greenlet, not a thread (docs/reliability.md).
worker_class = gunicorn_worker.BodyDeadlineWorker
worker_connections = gunicorn_worker.WORKER_CONNECTIONS
keepalive = 75
preload_app = True
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(D)sus request_id=%({x-request-id}o)s'
errorlog = "-"
control_socket_disable = True
