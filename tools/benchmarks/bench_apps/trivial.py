"""The server's own floor: Flask answering the Target API's three contacts, nothing else.

Run under the Target API's gunicorn settings, it says what any Flask app costs there, so
the Target API's own work is what it takes beyond this.
"""

from flask import Flask, jsonify

CONTACTS = [
    {"name": "Carol Chen", "email": "carol@example.com"},
    {"name": "Dan Diaz", "email": "dan@example.com"},
    {"name": "Erin Evans", "email": "erin@example.com"},
]

app = Flask(__name__)


@app.get("/api/contacts")
def contacts():
    return jsonify(owner="auth0|65f1a2b3c4d5e6f708091a01", contacts=CONTACTS)


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")
