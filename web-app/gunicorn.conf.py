# gunicorn settings for web-app. Two workers share the sessions through the data folder.
import os

# First: the gevent worker, which patches the standard library before the application is
# loaded (see its module). Installed with obo_serving, in every image and in the virtual environment.
from obo_serving import gunicorn_worker

bind = os.environ.get("WEB_APP_BIND", "0.0.0.0:3000")
workers = int(os.environ.get("WEB_APP_WORKERS", "2"))
# A slow or silent client holds a greenlet, not a thread (docs/reliability.md).
worker_class = gunicorn_worker.BodyDeadlineWorker
worker_connections = gunicorn_worker.WORKER_CONNECTIONS
preload_app = True  # validate the settings once, in the master, before forking
accesslog = "-"
# No query strings in the access log: /callback carries the authorization code and state.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(D)sus request_id=%({x-request-id}o)s'
errorlog = "-"
timeout = 60
# Several gunicorn masters run side by side (four services, test runs): no shared
# per-user control socket.
control_socket_disable = True
