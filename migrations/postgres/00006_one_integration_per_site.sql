-- +goose Up
-- One integration per Jira site: a second one would link the same projects
-- twice. Reconnecting updates the existing integration instead.
CREATE UNIQUE INDEX jira_integrations_cloud_site ON jira_integrations(cloud_id) WHERE deployment = 'cloud';
CREATE UNIQUE INDEX jira_integrations_dc_site ON jira_integrations(base_url) WHERE deployment = 'datacenter';

-- +goose Down
DROP INDEX jira_integrations_dc_site;
DROP INDEX jira_integrations_cloud_site;
