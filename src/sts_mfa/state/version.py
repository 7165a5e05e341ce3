"""The state document's schema version, and the last time it can hold (light: the fast path reads them)."""

SCHEMA_VERSION = 4  # 4: signed (sts_mfa.state.signature); older files are used only once adopted
LATEST_TIME = 253402300799  # 9999-12-31T23:59:59Z: the last second datetime (and so ISO 8601) can show
