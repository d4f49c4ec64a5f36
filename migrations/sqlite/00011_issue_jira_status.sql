-- +goose Up
-- The Jira status the syncer last left the task in (created in, or moved
-- to), shown on the request page beside the sync state.
ALTER TABLE jira_issue_links ADD COLUMN jira_status TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE jira_issue_links DROP COLUMN jira_status;
