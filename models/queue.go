package models

import "context"

// CountAwaitingDecision counts the pending requests approverID may decide
// (everyone's but their own): the number beside Requests in the nav.
func (s *Store) CountAwaitingDecision(ctx context.Context, approverID int64) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&AccessRequest{}).
		Where("status = ? AND requester_id <> ?", RequestPending, approverID).Count(&n).Error
	return n, translate(err, "count requests awaiting a decision")
}
