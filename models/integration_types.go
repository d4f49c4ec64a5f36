package models

import "time"

// Deployment is where a Jira integration lives.
type Deployment string

const (
	DeploymentCloud      Deployment = "cloud"
	DeploymentDataCenter Deployment = "datacenter"
)

// Valid reports whether d is a known deployment.
func (d Deployment) Valid() bool { return d == DeploymentCloud || d == DeploymentDataCenter }

// IntegrationStatus is the health of a Jira integration.
type IntegrationStatus string

const (
	IntegrationConnected         IntegrationStatus = "connected"
	IntegrationReconnectRequired IntegrationStatus = "reconnect_required"
	IntegrationError             IntegrationStatus = "error"
)

// Valid reports whether s is a known status.
func (s IntegrationStatus) Valid() bool {
	switch s {
	case IntegrationConnected, IntegrationReconnectRequired, IntegrationError:
		return true
	}
	return false
}

// OAuthToken is a decrypted OAuth token pair of an integration.
type OAuthToken struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time
	Scope        string
}
