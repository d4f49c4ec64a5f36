package jira

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"privilege/internal/paths"
	"privilege/models"
)

// Labels every task carries: the product label and the correlation label
// that finds the task of a request again after an ambiguous create.
const ProductLabel = "privilege-jit"

// CorrelationLabel is the label unique to a request's task.
func CorrelationLabel(requestID int64) string {
	return "privilege-request-" + strconv.FormatInt(requestID, 10)
}

// FormatDuration renders minutes as "2h", "90 min" → "1h 30m".
func FormatDuration(minutes int) string {
	d := time.Duration(minutes) * time.Minute
	h, m := int(d.Hours()), minutes%60
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh %dm", h, m)
}

// IssueSummary names requester, resources, account and duration, ≤255 characters.
func IssueSummary(r models.AccessRequest) string {
	s := fmt.Sprintf("JIT access: %s → %s on %s %s (%s) for %s", r.Requester.Email,
		strings.Join(r.ResourceNames(), ", "), r.Account.Provider.Label(), r.Account.ExternalID, r.Account.Name, FormatDuration(r.DurationMinutes))
	return cleanSummary(s)
}

// IssueDescription holds requester, account, every resource, the duration,
// the justification and the approval link.
func IssueDescription(r models.AccessRequest, baseURL string) Document {
	var items [][]Inline
	for _, res := range r.Resources {
		items = append(items, Item(Code(res.Name), Text(" ("+res.Kind+")")))
	}
	return NewDocument(
		Paragraph(Text("Just-in-time access request "), Strong("#"+strconv.FormatInt(r.ID, 10)), Text(" submitted by "), Strong(r.Requester.Email), Text(".")),
		Paragraph(Strong("Account: "), Text(fmt.Sprintf("%s %s %s — %s", r.Account.Provider.Label(), r.Account.Provider.IDLabel(), r.Account.ExternalID, r.Account.Name))),
		Heading(3, Text("Requested resources")),
		BulletList(items...),
		Paragraph(Strong("Access duration: "), Text(FormatDuration(r.DurationMinutes))),
		Paragraph(Strong("Justification: "), Text(r.Justification)),
		Paragraph(Text("Approve or deny: "), Link("open the approval page", paths.RequestURL(baseURL, r.ID))),
	)
}

// EventComment says what happened, who did it, when and why.
func EventComment(r models.AccessRequest, ev models.RequestEvent) Document {
	who := ev.ActorEmail
	at := ev.At.UTC().Format(time.RFC3339)
	var line string
	switch ev.Kind {
	case models.EventApproved:
		line = fmt.Sprintf("Approved by %s at %s.", who, at)
		if r.AccessEndsAt != nil {
			line += " Access ends at " + r.AccessEndsAt.UTC().Format(time.RFC3339) + "."
		}
	case models.EventDenied:
		line = fmt.Sprintf("Denied by %s at %s.", who, at)
	case models.EventCancelled:
		line = fmt.Sprintf("Cancelled by the requester %s at %s.", who, at)
	case models.EventExpired:
		line = fmt.Sprintf("Expired at %s: nobody decided the request in time.", at)
	case models.EventEnded:
		line = fmt.Sprintf("The access window ended at %s.", at)
	case models.EventRevoked:
		line = fmt.Sprintf("Access revoked by %s at %s.", who, at)
	default:
		line = fmt.Sprintf("%s by %s at %s.", ev.Kind, who, at)
	}
	if ev.Via == models.ViaJira {
		line += " Decided in Jira."
	}
	blocks := []Block{Paragraph(Text(line))}
	if ev.Reason != "" && ev.Kind != models.EventExpired && ev.Kind != models.EventEnded {
		blocks = append(blocks, Paragraph(Strong("Reason: "), Text(ev.Reason)))
	}
	blocks = append(blocks, Paragraph(Text(EventMarker(ev))))
	return NewDocument(blocks...)
}

// EventMarker ends every lifecycle comment, so a comment that may already
// have been posted can be recognised. It has no character that ADF, wiki
// markup or JSON would escape.
func EventMarker(ev models.RequestEvent) string {
	return fmt.Sprintf("Privilege event %d.", ev.ID)
}
