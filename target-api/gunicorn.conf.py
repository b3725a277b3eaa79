# gunicorn settings for target-api. gthread keeps connections alive (the sync worker
# closes each one), so the Source API's pooled session reuses its TCP connection.
import os

bind = os.environ.get("TARGET_API_BIND", "0.0.0.0:3002")
workers = int(os.environ.get("TARGET_API_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("TARGET_API_THREADS", "4"))
keepalive = 75
preload_app = True
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(D)sus request_id=%({x-request-id}o)s'
errorlog = "-"
control_socket_disable = True
