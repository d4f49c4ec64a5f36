-- +goose Up
-- The account list is ordered by (name, id): one index serves the order and
-- deep pages without a sort.
DROP INDEX cloud_accounts_name;
CREATE INDEX cloud_accounts_name_id ON cloud_accounts(name, id);

-- +goose Down
DROP INDEX cloud_accounts_name_id;
CREATE INDEX cloud_accounts_name ON cloud_accounts(name);
