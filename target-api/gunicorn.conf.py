# gunicorn settings for target-api. The gevent worker keeps connections alive (the sync
# worker closes each one), so the Source API's pooled session reuses its TCP connection.
import os

# First: the gevent worker, which patches the standard library before the application is
# loaded (see its module). Installed with obo_serving, in every image and in the virtual environment.
from obo_serving import gunicorn_worker

bind = os.environ.get("TARGET_API_BIND", "0.0.0.0:3002")
workers = int(os.environ.get("TARGET_API_WORKERS", "2"))
# A slow or silent client holds a greenlet, not a thread (docs/reliability.md).
worker_class = gunicorn_worker.BodyDeadlineWorker
worker_connections = gunicorn_worker.WORKER_CONNECTIONS
keepalive = 75
preload_app = True
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(D)sus request_id=%({x-request-id}o)s'
errorlog = "-"
control_socket_disable = True
