-- +goose Up
-- Decisions from Jira (design.md §9).
-- Per project link: whether a person moving the task decides the request, and
-- the statuses that mean approve and deny; since when (older moves are history).
ALTER TABLE project_links ADD COLUMN decide_in_jira BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE project_links ADD COLUMN jira_approve_status TEXT NOT NULL DEFAULT '';
ALTER TABLE project_links ADD COLUMN jira_deny_status TEXT NOT NULL DEFAULT '';
ALTER TABLE project_links ADD COLUMN decide_in_jira_since DATETIME;

-- Per integration: the webhook (Cloud: dynamic webhook ids and expiry; Data
-- Center: the secret an admin enters in Jira), the URL token, the poller.
ALTER TABLE jira_integrations ADD COLUMN webhook_token TEXT NOT NULL DEFAULT '';
ALTER TABLE jira_integrations ADD COLUMN webhook_secret_enc TEXT NOT NULL DEFAULT '';
ALTER TABLE jira_integrations ADD COLUMN webhook_ids TEXT NOT NULL DEFAULT '';
ALTER TABLE jira_integrations ADD COLUMN webhook_jql TEXT NOT NULL DEFAULT '';
ALTER TABLE jira_integrations ADD COLUMN webhook_expires_at DATETIME;
ALTER TABLE jira_integrations ADD COLUMN webhook_error TEXT NOT NULL DEFAULT '';
ALTER TABLE jira_integrations ADD COLUMN poll_watermark DATETIME;
ALTER TABLE jira_integrations ADD COLUMN poll_next_at DATETIME;
ALTER TABLE jira_integrations ADD COLUMN poll_error TEXT NOT NULL DEFAULT '';

-- A person's status change (Jira changelog entry) is handled once.
CREATE TABLE jira_decision_moves (
    integration_id INTEGER NOT NULL REFERENCES jira_integrations(id) ON DELETE CASCADE,
    changelog_id   TEXT NOT NULL,
    request_id     INTEGER NOT NULL REFERENCES access_requests(id) ON DELETE CASCADE,
    outcome        TEXT NOT NULL, -- applied, or why not
    created_at     DATETIME NOT NULL,
    PRIMARY KEY (integration_id, changelog_id)
);

-- How a request event came about: '' (console, API, system) or 'jira'.
ALTER TABLE request_events ADD COLUMN via TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE request_events DROP COLUMN via;
DROP TABLE jira_decision_moves;
ALTER TABLE jira_integrations DROP COLUMN poll_error;
ALTER TABLE jira_integrations DROP COLUMN poll_next_at;
ALTER TABLE jira_integrations DROP COLUMN poll_watermark;
ALTER TABLE jira_integrations DROP COLUMN webhook_error;
ALTER TABLE jira_integrations DROP COLUMN webhook_expires_at;
ALTER TABLE jira_integrations DROP COLUMN webhook_jql;
ALTER TABLE jira_integrations DROP COLUMN webhook_ids;
ALTER TABLE jira_integrations DROP COLUMN webhook_secret_enc;
ALTER TABLE jira_integrations DROP COLUMN webhook_token;
ALTER TABLE project_links DROP COLUMN decide_in_jira_since;
ALTER TABLE project_links DROP COLUMN jira_deny_status;
ALTER TABLE project_links DROP COLUMN jira_approve_status;
ALTER TABLE project_links DROP COLUMN decide_in_jira;
