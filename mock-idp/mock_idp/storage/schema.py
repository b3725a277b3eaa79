"""The tables of the identity provider's database, created when missing.

The layout is the data format: a database written by an earlier version must still open.
A column added later is in ``ADDED_COLUMNS`` too, so an older database gets it (with its
default) when it is opened.
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tenant_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    file_digest TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rate_limits (
    key TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS signing_keys (
    kid TEXT PRIMARY KEY,
    private_jwk TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('current', 'previous', 'retired')),
    created_at INTEGER NOT NULL,
    rotated_at INTEGER
);
CREATE TABLE IF NOT EXISTS authorization_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    audience TEXT,
    nonce TEXT,
    code_challenge TEXT,
    code_challenge_method TEXT,
    auth_time INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    revoked_at INTEGER,
    login_session_id TEXT,
    acr TEXT
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    audience TEXT,
    scope TEXT NOT NULL,
    auth_time INTEGER,
    code_hash TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    rotated_at INTEGER,
    revoked_at INTEGER,
    acr TEXT
);
CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family_id);
-- A family (every refresh token of one login) once revoked stays revoked: a token of it
-- written after the revocation (a race with reuse detection) is born revoked.
CREATE TABLE IF NOT EXISTS revoked_families (
    family_id TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS refresh_tokens_code ON refresh_tokens (code_hash);
-- A grant made by a token exchange, and the grant (login) of its subject token: revoking
-- the login revokes what was exchanged from it (RFC 7009 2.1, RFC 9700 4.14.2).
CREATE TABLE IF NOT EXISTS derived_grants (
    family_id TEXT PRIMARY KEY,
    parent_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS derived_grants_parent ON derived_grants (parent_id);
-- The login session a login's grant came from: revoking the grant ends that session.
CREATE TABLE IF NOT EXISTS login_grants (
    family_id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS consents (
    user_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    audience TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id, audience)
);
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    log_id TEXT NOT NULL UNIQUE,
    date TEXT NOT NULL,
    type TEXT NOT NULL,
    description TEXT NOT NULL,
    client_id TEXT,
    client_name TEXT,
    audience TEXT,
    user_id TEXT,
    ip TEXT,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS logs_type ON logs (type);
CREATE INDEX IF NOT EXISTS logs_date ON logs (date);
-- Failed logins, one row each, keyed by account ("account:<email>") and by address.
CREATE TABLE IF NOT EXISTS login_failures (
    key TEXT NOT NULL,
    failed_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (key, failed_at);
-- Login sessions at the identity provider: the cookie holds only the session_id.
CREATE TABLE IF NOT EXISTS login_sessions (
    session_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at INTEGER,
    acr TEXT
);
"""

# (table, column, declaration): added to a database written before the column existed.
ADDED_COLUMNS = [
    ("authorization_codes", "login_session_id", "TEXT"),  # NULL: a code from before, of no known session
    # How strongly the user logged in (authn_context.py); NULL: a password, before acr existed.
    ("login_sessions", "acr", "TEXT"),
    ("authorization_codes", "acr", "TEXT"),
    ("refresh_tokens", "acr", "TEXT"),
]
