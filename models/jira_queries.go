package models

import "context"

// ProjectLinkKeys maps every project link's id to its Jira project key, so
// an account checkbox can say which project tracks it elsewhere.
func (s *Store) ProjectLinkKeys(ctx context.Context) (map[int64]string, error) {
	var rows []ProjectLink
	if err := s.db.WithContext(ctx).Select("id", "project_key").Find(&rows).Error; err != nil {
		return nil, translate(err, "list project link keys")
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.ProjectKey
	}
	return out, nil
}
