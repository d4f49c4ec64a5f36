package models

import (
	"context"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// AuditActions lists every audit action, for the log's filter.
var AuditActions = []AuditAction{
	AuditSignIn, AuditSignInFailed, AuditSignOut, AuditSetup, AuditUserCreated, AuditUserDisabled, AuditUserEnabled,
	AuditTokenCreated, AuditTokenRevoked, AuditAccountCreated, AuditAccountUpdated, AuditAccountDeleted,
	AuditIntegrationAdded, AuditIntegrationRecon, AuditIntegrationGone, AuditIntegrationBroken,
	AuditProjectLinked, AuditProjectUpdated, AuditProjectUnlinked, AuditRequestCreated, AuditRequestApproved,
	AuditRequestDenied, AuditRequestCancelled, AuditRequestExpired, AuditRequestEnded, AuditRequestRevoked, AuditSyncRetried,
}

// AuditSort orders the audit log.
type AuditSort string

const (
	AuditNewest    AuditSort = ""       // newest first (default)
	AuditOldest    AuditSort = "oldest" // oldest first
	AuditByActor   AuditSort = "actor"  // actor email, then newest
	AuditByAction  AuditSort = "action" // action, then newest
	auditExportMax           = 100_000  // rows in one CSV export
	auditBatch               = 500
)

// AuditQuery filters the audit log. From and To are inclusive bounds on At
// (zero: open).
type AuditQuery struct {
	PageQuery
	Actor  string      // email substring
	Action AuditAction // exact
	Target string      // substring of the target type, id or detail
	From   time.Time
	To     time.Time
	Sort   AuditSort
}

func (s *Store) auditScope(ctx context.Context, q AuditQuery) *gorm.DB {
	db := s.db.WithContext(ctx).Model(&AuditEvent{})
	if t := strings.TrimSpace(q.Actor); t != "" {
		db = db.Where("LOWER(actor_email) LIKE ? ESCAPE '\\'", "%"+escapeLike(strings.ToLower(t))+"%")
	}
	if q.Action != "" {
		db = db.Where("action = ?", q.Action)
	}
	if t := strings.TrimSpace(q.Target); t != "" {
		like := "%" + escapeLike(strings.ToLower(strings.ReplaceAll(t, " ", "_"))) + "%"
		detail := "%" + escapeLike(strings.ToLower(t)) + "%"
		db = db.Where("LOWER(target_type) LIKE ? ESCAPE '\\' OR LOWER(detail) LIKE ? ESCAPE '\\' OR target_id = ?", like, detail, strings.TrimPrefix(t, "#"))
	}
	if !q.From.IsZero() {
		db = db.Where("at >= ?", q.From)
	}
	if !q.To.IsZero() {
		db = db.Where("at <= ?", q.To)
	}
	return db
}

func (q AuditQuery) order() string {
	switch q.Sort {
	case AuditOldest:
		return "id ASC"
	case AuditByActor:
		return "actor_email ASC, id DESC"
	case AuditByAction:
		return "action ASC, id DESC"
	}
	return "id DESC"
}

// SearchAudit returns one page of the filtered audit log.
func (s *Store) SearchAudit(ctx context.Context, q AuditQuery) (Page[AuditEvent], error) {
	q.PageQuery = q.normalize()
	p := Page[AuditEvent]{Page: q.Page, PerPage: q.PerPage}
	if err := s.auditScope(ctx, q).Count(&p.Total).Error; err != nil {
		return p, translate(err, "count audit events")
	}
	err := s.auditScope(ctx, q).Order(q.order()).Limit(q.PerPage).Offset(q.offset()).Find(&p.Items).Error
	return p, translate(err, "search audit events")
}

// EachAudit calls fn for every event matching q (at most 100,000), in the
// query's order, reading in batches: the CSV export.
func (s *Store) EachAudit(ctx context.Context, q AuditQuery, fn func([]AuditEvent) error) error {
	for off := 0; off < auditExportMax; off += auditBatch {
		var batch []AuditEvent
		if err := s.auditScope(ctx, q).Order(q.order()).Limit(auditBatch).Offset(off).Find(&batch).Error; err != nil {
			return translate(err, "export audit events")
		}
		if len(batch) == 0 {
			return nil
		}
		if err := fn(batch); err != nil {
			return err
		}
		if len(batch) < auditBatch {
			return nil
		}
	}
	return nil
}

// AuditTarget is an audit event's target in words, with what identifies it
// (the console's paths are built from these by the views, not here).
type AuditTarget struct {
	Label         string // "Project link Acme · OPS", "Request #12"
	Type          string // the event's target type ("account", "project_link", …)
	ID            int64
	IntegrationID int64  // project links: the integration the project belongs to
	ProjectKey    string // project links: the Jira project's key
	Gone          bool   // it no longer exists
}

// AuditTargets names the targets of events ("project_link 3" becomes
// "Project link Acme · OPS"), one query per target type present.
func (s *Store) AuditTargets(ctx context.Context, events []AuditEvent) (map[string]AuditTarget, error) {
	ids := map[string][]int64{}
	for _, ev := range events {
		if id, err := strconv.ParseInt(ev.TargetID, 10, 64); err == nil {
			ids[ev.TargetType] = append(ids[ev.TargetType], id)
		}
	}
	out := map[string]AuditTarget{}
	key := func(typ string, id int64) string { return typ + ":" + strconv.FormatInt(id, 10) }
	db := s.db.WithContext(ctx)
	if len(ids["account"]) > 0 {
		var rows []CloudAccount
		if err := db.Select("id", "name").Where("id IN ?", ids["account"]).Find(&rows).Error; err != nil {
			return nil, translate(err, "name audit accounts")
		}
		for _, r := range rows {
			out[key("account", r.ID)] = AuditTarget{Label: "Account " + r.Name, Type: "account", ID: r.ID}
		}
	}
	if len(ids["user"]) > 0 {
		var rows []User
		if err := db.Select("id", "email").Where("id IN ?", ids["user"]).Find(&rows).Error; err != nil {
			return nil, translate(err, "name audit users")
		}
		for _, r := range rows {
			out[key("user", r.ID)] = AuditTarget{Label: "User " + r.Email, Type: "user", ID: r.ID}
		}
	}
	if len(ids["token"]) > 0 {
		var rows []APIToken
		if err := db.Select("id", "name").Where("id IN ?", ids["token"]).Find(&rows).Error; err != nil {
			return nil, translate(err, "name audit tokens")
		}
		for _, r := range rows {
			out[key("token", r.ID)] = AuditTarget{Label: "API token " + r.Name, Type: "token", ID: r.ID}
		}
	}
	if len(ids["integration"]) > 0 {
		var rows []Integration
		if err := db.Select("id", "name").Where("id IN ?", ids["integration"]).Find(&rows).Error; err != nil {
			return nil, translate(err, "name audit integrations")
		}
		for _, r := range rows {
			out[key("integration", r.ID)] = AuditTarget{Label: "Integration " + r.Name, Type: "integration", ID: r.ID}
		}
	}
	if len(ids["project_link"]) > 0 {
		trackers, err := s.ProjectTrackers(ctx)
		if err != nil {
			return nil, err
		}
		for _, id := range ids["project_link"] {
			if t, ok := trackers[id]; ok {
				out[key("project_link", id)] = AuditTarget{Label: "Project link " + t.IntegrationName + " · " + t.ProjectKey,
					Type: "project_link", ID: id, IntegrationID: t.IntegrationID, ProjectKey: t.ProjectKey}
			}
		}
	}
	for _, id := range ids["request"] {
		out[key("request", id)] = AuditTarget{Label: "Request #" + strconv.FormatInt(id, 10), Type: "request", ID: id}
	}
	// Gone targets keep their words: the type and what the detail recorded.
	for _, ev := range events {
		id, err := strconv.ParseInt(ev.TargetID, 10, 64)
		if err != nil || ev.TargetType == "" {
			continue
		}
		if _, ok := out[key(ev.TargetType, id)]; !ok {
			label := strings.ToUpper(ev.TargetType[:1]) + strings.ReplaceAll(ev.TargetType[1:], "_", " ")
			if name, _, _ := strings.Cut(ev.Detail, ":"); name != "" {
				label += " " + name + " (removed)"
			} else {
				label += " #" + ev.TargetID + " (removed)"
			}
			out[key(ev.TargetType, id)] = AuditTarget{Label: label, Type: ev.TargetType, ID: id, Gone: true}
		}
	}
	return out, nil
}

// AuditTargetKey is the key of an event's target in AuditTargets' map.
func AuditTargetKey(ev AuditEvent) string { return ev.TargetType + ":" + ev.TargetID }
