package jira

import (
	"encoding/json"

	"privilege/models"
)

// Connection identifies one Jira integration and where its API lives.
type Connection struct {
	IntegrationID int64
	Deployment    models.Deployment
	// Cloud
	CloudID string
	SiteURL string // human site URL, for browse links (https://x.atlassian.net)
	// Data Center
	BaseURL      string // validated Base URL incl. context path
	ClientID     string // OAuth 2.0 incoming link
	ClientSecret string
}

// NewConnection describes an integration for the client.
func NewConnection(in models.Integration, clientSecret string) Connection {
	return Connection{IntegrationID: in.ID, Deployment: in.Deployment, CloudID: in.CloudID, SiteURL: in.SiteURL,
		BaseURL: in.BaseURL, ClientID: in.ClientID, ClientSecret: clientSecret}
}

func (c Connection) isCloud() bool { return c.Deployment == models.DeploymentCloud }

// Site is a Jira Cloud site the grant covers (accessible-resources).
type Site struct {
	CloudID string   `json:"id"`
	URL     string   `json:"url"`
	Name    string   `json:"name"`
	Scopes  []string `json:"scopes"`
}

// ServerInfo is Jira's /serverInfo answer.
type ServerInfo struct {
	BaseURL        string `json:"baseUrl"`
	Version        string `json:"version"`
	VersionNumbers []int  `json:"versionNumbers"`
	DeploymentType string `json:"deploymentType"` // Cloud, Server, DataCenter
	ServerTitle    string `json:"serverTitle"`
}

// User is the connected Jira user (/myself). Cloud fills AccountID, DC
// fills Name and Key.
type User struct {
	AccountID    string `json:"accountId"`
	Name         string `json:"name"`
	Key          string `json:"key"`
	DisplayName  string `json:"displayName"`
	EmailAddress string `json:"emailAddress"`
}

// Project is a Jira project the connected user can create issues in.
type Project struct {
	ID   string `json:"id"`
	Key  string `json:"key"`
	Name string `json:"name"`
}

// IssueType is an issue type available in a project.
type IssueType struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Subtask bool   `json:"subtask"`
}

// Field is a field on a project's create screen for one issue type.
type Field struct {
	ID            string
	Name          string
	Required      bool
	HasDefault    bool
	Schema        FieldSchema   // fields.go
	AllowedValues []FieldOption // for selects, components, priorities, versions
}

// Status is a workflow status; CategoryKey is new, indeterminate or done.
type Status struct {
	ID          string
	Name        string
	CategoryKey string
}

// Done reports whether the status is in the Done category.
func (s Status) Done() bool { return s.CategoryKey == CategoryDone }

// Status category keys.
const (
	CategoryNew           = "new"
	CategoryIndeterminate = "indeterminate"
	CategoryDone          = "done"
)

// IssueTypeStatuses lists the statuses of one issue type's workflow.
type IssueTypeStatuses struct {
	IssueTypeID   string
	IssueTypeName string
	Statuses      []Status
}

// IssueInput is what CreateIssue sends.
type IssueInput struct {
	ProjectKey  string
	IssueTypeID string
	Summary     string // truncated to 255 characters, newlines folded
	Description Document
	Labels      []string // no spaces allowed (Jira rejects them)
	Reporter    *Person  // nil: the connected user
	Assignee    *Person  // nil: nobody
	// Fields are further create-screen fields by id, each value as Jira
	// takes it (the project link's required fields, design.md §10).
	Fields map[string]json.RawMessage
}

// IssueRef identifies an issue; URL is its browse page for humans.
type IssueRef struct {
	ID  string
	Key string
	URL string
}

// IssueState is what the syncer needs to know about an existing issue.
type IssueState struct {
	IssueRef
	Summary        string
	Status         string
	StatusCategory string
	Labels         []string
}

// TransitionOption is a transition Jira offers from the issue's current status.
type TransitionOption struct {
	ID            string
	Name          string
	ToStatus      string
	ToStatusID    string
	ToCategory    string
	HasResolution bool     // the transition screen has the resolution field
	Resolutions   []string // allowed resolution names, if Jira lists them
}
