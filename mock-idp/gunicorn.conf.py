# gunicorn settings for mock-idp. Two workers by default, so state shared through
# SQLite is exercised from the first run.
import os

# First: the gevent worker, which patches the standard library before the application is
# loaded (see its module). Installed with obo_serving, in every image and in the virtual environment.
from obo_serving import gunicorn_worker

bind = os.environ.get("MOCK_IDP_BIND", "0.0.0.0:9000")
workers = int(os.environ.get("MOCK_IDP_WORKERS", "2"))
# A slow or silent client holds a greenlet, not a thread (docs/reliability.md).
worker_class = gunicorn_worker.BodyDeadlineWorker
worker_connections = gunicorn_worker.WORKER_CONNECTIONS
preload_app = True  # load (and validate) the tenant once, in the master, before forking
accesslog = "-"
# No query strings in the access log: /authorize carries state and PKCE challenges.
# The X-Request-Id the web app and the APIs send, so one click can be followed here too.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(D)sus request_id=%({x-request-id}i)s'
errorlog = "-"
timeout = 30
# Several gunicorn masters run side by side (four services, test runs): no shared
# per-user control socket.
control_socket_disable = True
