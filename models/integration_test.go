package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"privilege/models"
	"privilege/models/modeltest"
)

// A Jira site has one integration: a second one would link its projects twice.
func TestOneIntegrationPerSite(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		tok := models.OAuthToken{AccessToken: "at", RefreshToken: "rt", Expiry: time.Now().Add(time.Hour)}
		cloud := func(name, cloudID string) models.IntegrationGrant {
			return models.IntegrationGrant{Name: name, Deployment: models.DeploymentCloud, CloudID: cloudID, SiteURL: "https://" + cloudID + ".atlassian.net", Token: tok}
		}
		dc := func(name, base string) models.IntegrationGrant {
			return models.IntegrationGrant{Name: name, Deployment: models.DeploymentDataCenter, BaseURL: base, ClientID: "c", ClientSecret: "s", Token: tok}
		}
		modeltest.Must(s.CreateIntegration(ctx, models.SystemActor, cloud("Acme", "acme")))
		modeltest.Must(s.CreateIntegration(ctx, models.SystemActor, cloud("Globex", "globex")))
		modeltest.Must(s.CreateIntegration(ctx, models.SystemActor, dc("On-prem", "https://jira.example.com")))
		for _, g := range []models.IntegrationGrant{cloud("Acme again", "acme"), dc("On-prem again", "https://jira.example.com")} {
			_, err := s.CreateIntegration(ctx, models.SystemActor, g)
			var ve *models.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(ve.Fields["site"], "is already connected as") {
				t.Errorf("%s: %v, want a site validation error", g.Name, err)
			}
		}
		if n := len(modeltest.Must(s.ListIntegrations(ctx))); n != 3 {
			t.Errorf("%d integrations, want 3", n)
		}
	})
}
