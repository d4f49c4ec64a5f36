package models

import "context"

// ProjectTracker names a project link for display: which Jira (integration)
// and which project, since two sites may both have an OPS project.
type ProjectTracker struct {
	LinkID          int64
	IntegrationID   int64
	IntegrationName string
	JiraURL         string // the site (Cloud) or base URL (Data Center)
	ProjectKey      string
	ProjectName     string
}

// ProjectTrackers maps every project link's id to its integration and
// project names (a handful of rows: one per linked project).
func (s *Store) ProjectTrackers(ctx context.Context) (map[int64]ProjectTracker, error) {
	var rows []struct {
		ID, IntegrationID                  int64
		Name, Deployment, SiteURL, BaseURL string
		ProjectKey, ProjectName            string
	}
	err := s.db.WithContext(ctx).Table("project_links p").
		Select("p.id, p.integration_id, i.name, i.deployment, i.site_url, i.base_url, p.project_key, p.project_name").
		Joins("JOIN jira_integrations i ON i.id = p.integration_id").Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "list project trackers")
	}
	out := make(map[int64]ProjectTracker, len(rows))
	for _, r := range rows {
		in := Integration{Deployment: Deployment(r.Deployment), SiteURL: r.SiteURL, BaseURL: r.BaseURL}
		out[r.ID] = ProjectTracker{LinkID: r.ID, IntegrationID: r.IntegrationID, IntegrationName: r.Name, JiraURL: in.SiteOrBaseURL(),
			ProjectKey: r.ProjectKey, ProjectName: r.ProjectName}
	}
	return out, nil
}

// TrackerOf finds the tracker of a task created in integrationID's project key.
func TrackerOf(trackers map[int64]ProjectTracker, integrationID int64, key string) (ProjectTracker, bool) {
	for _, t := range trackers {
		if t.IntegrationID == integrationID && t.ProjectKey == key {
			return t, true
		}
	}
	return ProjectTracker{}, false
}
