-- +goose Up
-- People in Jira (design.md §8): each user's Jira identity per integration,
-- proven by consent; only the identity is kept, never a token.
CREATE TABLE jira_identities (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    integration_id INTEGER NOT NULL REFERENCES jira_integrations(id) ON DELETE CASCADE,
    account_id     TEXT NOT NULL, -- Cloud accountId; Data Center user key
    name           TEXT NOT NULL DEFAULT '', -- Data Center username ('' on Cloud)
    display_name   TEXT NOT NULL DEFAULT '',
    linked_at      DATETIME NOT NULL,
    UNIQUE (integration_id, account_id),
    UNIQUE (integration_id, user_id)
);
CREATE INDEX jira_identities_user ON jira_identities(user_id);

-- Per project link: who is assigned, whether approvers watch, and what Jira
-- refused the last time it was tried ('' = nothing missing).
ALTER TABLE project_links ADD COLUMN assignee_mode TEXT NOT NULL DEFAULT 'none' CHECK (assignee_mode IN ('none', 'fixed', 'decider'));
ALTER TABLE project_links ADD COLUMN assignee_user_id INTEGER; -- a user id; users are disabled, never deleted
ALTER TABLE project_links ADD COLUMN add_watchers BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE project_links ADD COLUMN reporter_problem TEXT NOT NULL DEFAULT '';
ALTER TABLE project_links ADD COLUMN assignee_problem TEXT NOT NULL DEFAULT '';
ALTER TABLE project_links ADD COLUMN watchers_problem TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE project_links DROP COLUMN watchers_problem;
ALTER TABLE project_links DROP COLUMN assignee_problem;
ALTER TABLE project_links DROP COLUMN reporter_problem;
ALTER TABLE project_links DROP COLUMN add_watchers;
ALTER TABLE project_links DROP COLUMN assignee_user_id;
ALTER TABLE project_links DROP COLUMN assignee_mode;
DROP INDEX jira_identities_user;
DROP TABLE jira_identities;
