"""The floor of the On-Behalf-Of hop: a Flask app that forwards GET /api/contacts to the
Target API with a fixed target token, and nothing else (no validation, no cache).

Run under the Source API's gunicorn settings. BENCH_CLIENT picks the HTTP client:
``requests`` (a pooled Session), ``urllib3`` (its PoolManager directly) or ``http.client``
(one keep-alive connection per greenlet that asks, reused: what the Source API's Target API
client is built on, source_api/keep_alive.py), to show what the client itself costs.
"""

import http.client
import os
from urllib.parse import urlsplit

import requests
import urllib3
from flask import Flask, Response, jsonify

TARGET = os.environ["BENCH_TARGET_URL"].rstrip("/")
HEADERS = {"Authorization": f"Bearer {os.environ['BENCH_TARGET_TOKEN']}"}
CLIENT = os.environ.get("BENCH_CLIENT", "requests")

app = Flask(__name__)
session = requests.Session()
pool = urllib3.PoolManager(num_pools=4, maxsize=16)
idle: list[http.client.HTTPConnection] = []


def with_requests() -> tuple[int, bytes]:
    response = session.get(TARGET + "/api/contacts", headers=HEADERS, timeout=(3.05, 5))
    return response.status_code, response.content


def with_urllib3() -> tuple[int, bytes]:
    timeout = urllib3.Timeout(connect=3.05, read=5)
    response = pool.request("GET", TARGET + "/api/contacts", headers=HEADERS, timeout=timeout, retries=False)
    return response.status, response.data


def with_http_client() -> tuple[int, bytes]:
    address = urlsplit(TARGET)
    connection = idle.pop() if idle else http.client.HTTPConnection(address.hostname, address.port, timeout=5)
    try:
        connection.request("GET", "/api/contacts", headers=HEADERS)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException):
        connection.close()
        raise
    idle.append(connection)
    return response.status, body


forward = {"http.client": with_http_client, "urllib3": with_urllib3}.get(CLIENT, with_requests)


@app.get("/api/contacts")
def contacts():
    status, body = forward()
    return Response(body, status=status, content_type="application/json")


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")
