-- +goose Up
CREATE TABLE jira_integrations (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT NOT NULL,
    deployment         TEXT NOT NULL CHECK (deployment IN ('cloud', 'datacenter')),
    site_url           TEXT NOT NULL DEFAULT '',
    cloud_id           TEXT NOT NULL DEFAULT '',
    base_url           TEXT NOT NULL DEFAULT '',
    client_id          TEXT NOT NULL DEFAULT '',
    client_secret_enc  TEXT NOT NULL DEFAULT '',
    access_token_enc   TEXT NOT NULL DEFAULT '',
    refresh_token_enc  TEXT NOT NULL DEFAULT '',
    token_expiry       DATETIME,
    scopes             TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL CHECK (status IN ('connected', 'reconnect_required', 'error')),
    status_reason      TEXT NOT NULL DEFAULT '',
    project_keys       TEXT NOT NULL DEFAULT '',
    refresh_lock_owner TEXT NOT NULL DEFAULT '',
    refresh_lock_until DATETIME,
    connected_by_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    connected_at       DATETIME NOT NULL,
    last_success_at    DATETIME,
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL
);

CREATE TABLE project_links (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    integration_id   INTEGER NOT NULL REFERENCES jira_integrations(id) ON DELETE CASCADE,
    project_id       TEXT NOT NULL,
    project_key      TEXT NOT NULL,
    project_name     TEXT NOT NULL,
    issue_type_id    TEXT NOT NULL,
    issue_type_name  TEXT NOT NULL,
    status_approved  TEXT NOT NULL DEFAULT '',
    status_denied    TEXT NOT NULL DEFAULT '',
    status_cancelled TEXT NOT NULL DEFAULT '',
    status_expired   TEXT NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL,
    UNIQUE (integration_id, project_key)
);

ALTER TABLE cloud_accounts ADD COLUMN project_link_id INTEGER REFERENCES project_links(id) ON DELETE SET NULL;
CREATE INDEX cloud_accounts_project_link ON cloud_accounts(project_link_id);

CREATE TABLE access_requests (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    requester_id     INTEGER NOT NULL REFERENCES users(id),
    account_id       INTEGER NOT NULL REFERENCES cloud_accounts(id),
    duration_minutes INTEGER NOT NULL,
    justification    TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'cancelled', 'expired', 'ended', 'revoked')),
    decided_by_id    INTEGER REFERENCES users(id),
    decided_at       DATETIME,
    decision_reason  TEXT NOT NULL DEFAULT '',
    pending_until    DATETIME NOT NULL,
    access_ends_at   DATETIME,
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL
);
CREATE INDEX access_requests_status ON access_requests(status, pending_until);
CREATE INDEX access_requests_requester ON access_requests(requester_id, id);
CREATE INDEX access_requests_account ON access_requests(account_id, id);

CREATE TABLE request_resources (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id INTEGER NOT NULL REFERENCES access_requests(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL
);
CREATE INDEX request_resources_request ON request_resources(request_id);

CREATE TABLE request_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id  INTEGER NOT NULL REFERENCES access_requests(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    actor_id    INTEGER,
    actor_email TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    at          DATETIME NOT NULL
);
CREATE INDEX request_events_request ON request_events(request_id, id);

CREATE TABLE jira_issue_links (
    request_id          INTEGER PRIMARY KEY REFERENCES access_requests(id) ON DELETE CASCADE,
    integration_id      INTEGER REFERENCES jira_integrations(id) ON DELETE SET NULL,
    project_key         TEXT NOT NULL DEFAULT '',
    issue_id            TEXT NOT NULL DEFAULT '',
    issue_key           TEXT NOT NULL DEFAULT '',
    issue_url           TEXT NOT NULL DEFAULT '',
    applied_event_id    INTEGER NOT NULL DEFAULT 0,
    sync_state          TEXT NOT NULL,
    last_error          TEXT NOT NULL DEFAULT '',
    create_attempted_at DATETIME,
    last_synced_at      DATETIME,
    created_at          DATETIME NOT NULL,
    updated_at          DATETIME NOT NULL
);
CREATE INDEX jira_issue_links_state ON jira_issue_links(sync_state);

CREATE TABLE sync_jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id   INTEGER NOT NULL REFERENCES access_requests(id) ON DELETE CASCADE,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed', 'parked')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    run_after    DATETIME NOT NULL,
    locked_by    TEXT NOT NULL DEFAULT '',
    locked_until DATETIME,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL
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
