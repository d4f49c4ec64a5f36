-- +goose Up
-- Claims look up due pending jobs by (state, run_after) and crashed workers'
-- jobs by (state, locked_until); settled jobs are deleted.
CREATE INDEX sync_jobs_lease ON sync_jobs(state, locked_until);
DELETE FROM sync_jobs WHERE state = 'done';

-- +goose Down
DROP INDEX sync_jobs_lease;
