-- +goose Up
-- Failed sign-ins, counted per account ("account:<email>") and per client
-- address ("address:<ip>/32" or "<ipv6>/64"). Kept in the database so every
-- replica sees the same counts.
CREATE TABLE sign_in_throttles (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL DEFAULT 0,
    window_start TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX sign_in_throttles_updated ON sign_in_throttles(updated_at);

-- Who minted a token (NULL: the operator CLI), so separation of duties holds
-- whoever minted it; backfilled from the audit log.
ALTER TABLE api_tokens ADD COLUMN created_by_id BIGINT REFERENCES users(id) ON DELETE SET NULL;
UPDATE api_tokens SET created_by_id = (
    SELECT e.actor_id FROM audit_events e
    WHERE e.action = 'token.created' AND e.target_type = 'token' AND e.target_id = CAST(api_tokens.id AS TEXT)
      AND e.actor_id IN (SELECT id FROM users)
    ORDER BY e.id LIMIT 1);

-- The API token an action was taken with (NULL: a browser session).
ALTER TABLE request_events ADD COLUMN api_token_id BIGINT REFERENCES api_tokens(id) ON DELETE SET NULL;
ALTER TABLE audit_events ADD COLUMN api_token_id BIGINT;

-- The per-user limit on new requests counts a requester's recent requests.
CREATE INDEX access_requests_requester_created ON access_requests(requester_id, created_at);

-- +goose Down
DROP INDEX access_requests_requester_created;
ALTER TABLE audit_events DROP COLUMN api_token_id;
ALTER TABLE request_events DROP COLUMN api_token_id;
ALTER TABLE api_tokens DROP COLUMN created_by_id;
DROP TABLE sign_in_throttles;
