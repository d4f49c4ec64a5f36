-- +goose Up
CREATE TABLE jira_integrations (
    id                 BIGSERIAL PRIMARY KEY,
    name               TEXT NOT NULL,
    deployment         TEXT NOT NULL CHECK (deployment IN ('cloud', 'datacenter')),
    site_url           TEXT NOT NULL DEFAULT '',
    cloud_id           TEXT NOT NULL DEFAULT '',
    base_url           TEXT NOT NULL DEFAULT '',
    client_id          TEXT NOT NULL DEFAULT '',
    client_secret_enc  TEXT NOT NULL DEFAULT '',
    access_token_enc   TEXT NOT NULL DEFAULT '',
    refresh_token_enc  TEXT NOT NULL DEFAULT '',
    token_expiry       TIMESTAMPTZ,
    scopes             TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL CHECK (status IN ('connected', 'reconnect_required', 'error')),
    status_reason      TEXT NOT NULL DEFAULT '',
    project_keys       TEXT NOT NULL DEFAULT '',
    refresh_lock_owner TEXT NOT NULL DEFAULT '',
    refresh_lock_until TIMESTAMPTZ,
    connected_by_id    BIGINT REFERENCES users(id) ON DELETE SET NULL,
    connected_at       TIMESTAMPTZ NOT NULL,
    last_success_at    TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);

CREATE TABLE project_links (
    id               BIGSERIAL PRIMARY KEY,
    integration_id   BIGINT NOT NULL REFERENCES jira_integrations(id) ON DELETE CASCADE,
    project_id       TEXT NOT NULL,
    project_key      TEXT NOT NULL,
    project_name     TEXT NOT NULL,
    issue_type_id    TEXT NOT NULL,
    issue_type_name  TEXT NOT NULL,
    status_approved  TEXT NOT NULL DEFAULT '',
    status_denied    TEXT NOT NULL DEFAULT '',
    status_cancelled TEXT NOT NULL DEFAULT '',
    status_expired   TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (integration_id, project_key)
);

ALTER TABLE cloud_accounts ADD COLUMN project_link_id BIGINT REFERENCES project_links(id) ON DELETE SET NULL;
CREATE INDEX cloud_accounts_project_link ON cloud_accounts(project_link_id);

CREATE TABLE access_requests (
    id               BIGSERIAL PRIMARY KEY,
    requester_id     BIGINT NOT NULL REFERENCES users(id),
    account_id       BIGINT NOT NULL REFERENCES cloud_accounts(id),
    duration_minutes INTEGER NOT NULL,
    justification    TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'cancelled', 'expired', 'ended', 'revoked')),
    decided_by_id    BIGINT REFERENCES users(id),
    decided_at       TIMESTAMPTZ,
    decision_reason  TEXT NOT NULL DEFAULT '',
    pending_until    TIMESTAMPTZ NOT NULL,
    access_ends_at   TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX access_requests_status ON access_requests(status, pending_until);
CREATE INDEX access_requests_requester ON access_requests(requester_id, id);
CREATE INDEX access_requests_account ON access_requests(account_id, id);

CREATE TABLE request_resources (
    id         BIGSERIAL PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES access_requests(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL
);
CREATE INDEX request_resources_request ON request_resources(request_id);

CREATE TABLE request_events (
    id          BIGSERIAL PRIMARY KEY,
    request_id  BIGINT NOT NULL REFERENCES access_requests(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    actor_id    BIGINT,
    actor_email TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX request_events_request ON request_events(request_id, id);

CREATE TABLE jira_issue_links (
    request_id          BIGINT PRIMARY KEY REFERENCES access_requests(id) ON DELETE CASCADE,
    integration_id      BIGINT REFERENCES jira_integrations(id) ON DELETE SET NULL,
    project_key         TEXT NOT NULL DEFAULT '',
    issue_id            TEXT NOT NULL DEFAULT '',
    issue_key           TEXT NOT NULL DEFAULT '',
    issue_url           TEXT NOT NULL DEFAULT '',
    applied_event_id    BIGINT NOT NULL DEFAULT 0,
    sync_state          TEXT NOT NULL,
    last_error          TEXT NOT NULL DEFAULT '',
    create_attempted_at TIMESTAMPTZ,
    last_synced_at      TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX jira_issue_links_state ON jira_issue_links(sync_state);

CREATE TABLE sync_jobs (
    id           BIGSERIAL PRIMARY KEY,
    request_id   BIGINT NOT NULL REFERENCES access_requests(id) ON DELETE CASCADE,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed', 'parked')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    run_after    TIMESTAMPTZ NOT NULL,
    locked_by    TEXT NOT NULL DEFAULT '',
    locked_until TIMESTAMPTZ,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX sync_jobs_due ON sync_jobs(state, run_after);
CREATE INDEX sync_jobs_request ON sync_jobs(request_id, id);

-- +goose Down
DROP TABLE sync_jobs;
DROP TABLE jira_issue_links;
DROP TABLE request_events;
DROP TABLE request_resources;
DROP TABLE access_requests;
DROP INDEX cloud_accounts_project_link;
ALTER TABLE cloud_accounts DROP COLUMN project_link_id;
DROP TABLE project_links;
DROP TABLE jira_integrations;
