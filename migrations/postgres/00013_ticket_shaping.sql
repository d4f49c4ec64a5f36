-- +goose Up
-- Ticket shaping (design.md §10): per project link, the summary and
-- description templates ('' = the defaults), the values of the fields the
-- issue type requires that Privilege cannot fill (JSON: field id → the value
-- as sent to Jira, its name and label), and what Jira last refused of them.
ALTER TABLE project_links ADD COLUMN summary_template TEXT NOT NULL DEFAULT '';
ALTER TABLE project_links ADD COLUMN description_template TEXT NOT NULL DEFAULT '';
ALTER TABLE project_links ADD COLUMN field_values TEXT NOT NULL DEFAULT '';
ALTER TABLE project_links ADD COLUMN fields_problem TEXT NOT NULL DEFAULT '';
-- Optional: labels added to every task (space-separated), and the due date
-- set to when a pending request expires (where the field is on the screen).
ALTER TABLE project_links ADD COLUMN extra_labels TEXT NOT NULL DEFAULT '';
ALTER TABLE project_links ADD COLUMN due_date_from_expiry BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE project_links DROP COLUMN due_date_from_expiry;
ALTER TABLE project_links DROP COLUMN extra_labels;
ALTER TABLE project_links DROP COLUMN fields_problem;
ALTER TABLE project_links DROP COLUMN field_values;
ALTER TABLE project_links DROP COLUMN description_template;
ALTER TABLE project_links DROP COLUMN summary_template;
