package jira

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"privilege/models"
)

// A token endpoint that refuses the client credentials (a recreated Data
// Center incoming link) leaves the integration unusable until an admin
// reconnects: the same outcome as invalid_grant.
func TestRefreshWithRefusedClientNeedsReconnect(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"Client authentication failed"}`))
	}))
	defer srv.Close()
	o := NewOAuth(OAuthConfig{HTTPClient: NewHTTPClient(OutboundConfig{AllowCIDRs: loopbackOnly()})})
	_, err := o.Refresh(context.Background(), Connection{IntegrationID: 1, Deployment: models.DeploymentDataCenter, BaseURL: srv.URL, ClientID: "old", ClientSecret: "old"}, "rt")
	if !errors.Is(err, ErrReconnectRequired) {
		t.Fatalf("err = %v, want ErrReconnectRequired", err)
	}
}
