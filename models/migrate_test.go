package models_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"privilege/models"
	"privilege/models/modeltest"
)

func TestMigrationsUpFromEmpty(t *testing.T) {
	for _, d := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) {
			db := modeltest.OpenRaw(t, d)
			ctx := context.Background()
			if ok, _ := db.MigrationsCurrent(ctx); ok {
				t.Fatal("empty database reported as current")
			}
			if err := db.Migrate(ctx, nil); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			if err := db.Migrate(ctx, nil); err != nil {
				t.Fatalf("second migrate must be a no-op: %v", err)
			}
			ok, err := db.MigrationsCurrent(ctx)
			if err != nil || !ok {
				t.Fatalf("MigrationsCurrent = %v, %v", ok, err)
			}
			m := db.Gorm.Migrator()
			for _, model := range []any{&models.User{}, &models.APIToken{}, &models.CloudAccount{}, &models.Resource{}, &models.AuditEvent{}} {
				if !m.HasTable(model) {
					t.Errorf("%T: no table", model)
				}
			}
			if !m.HasColumn(&models.CloudAccount{}, "ProjectLinkID") {
				t.Error("cloud_accounts.project_link_id missing")
			}
		})
	}
}

func TestSQLiteFileIsOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "privilege.db")
	db, err := models.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), st.Mode().Perm())
		}
	}
}

// A wrong or unreachable PostgreSQL URL is reported without its password.
func TestPostgresErrorsHidePassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://app:topsecret@127.0.0.1:1/db?connect_timeout=2", // refused
		"postgres://app:topsecret@127.0.0.1:99999/db",               // unparsable port
	} {
		_, err := models.Open(context.Background(), dsn, "")
		if err == nil || strings.Contains(err.Error(), "topsecret") {
			t.Errorf("%s: error %v", dsn, err)
		}
	}
}

// TestUpgradeWithTwoIntegrationsForOneSiteSaysWhatToDo: a database from
// before migration 00006 that connects one Cloud site and one Data Center
// twice does not get a raw constraint failure: the error names every
// integration involved and what to do, the schema stays where it was, and
// once the duplicates are gone the upgrade goes through.
func TestUpgradeWithTwoIntegrationsForOneSiteSaysWhatToDo(t *testing.T) {
	for _, d := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) {
			db := modeltest.OpenRaw(t, d)
			ctx := context.Background()
			if err := db.MigrateTo(ctx, 5); err != nil {
				t.Fatal(err)
			}
			insert := func(name, deployment, cloudID, baseURL string) {
				err := db.Gorm.Exec(`INSERT INTO jira_integrations (name, deployment, cloud_id, base_url, status, connected_at, created_at, updated_at)
					VALUES (?, ?, ?, ?, 'connected', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`, name, deployment, cloudID, baseURL).Error
				if err != nil {
					t.Fatal(err)
				}
			}
			insert("Acme", "cloud", "cloud-acme", "")
			insert("Acme again", "cloud", "cloud-acme", "")
			insert("Globex", "cloud", "cloud-globex", "")
			insert("Corp", "datacenter", "", "https://jira.corp.example")
			insert("Corp (new link)", "datacenter", "", "https://jira.corp.example")

			err := db.Migrate(ctx, nil)
			if !errors.Is(err, models.ErrUpgradeBlocked) {
				t.Fatalf("migrate over duplicates: %v", err)
			}
			for _, want := range []string{`"Acme" (id 1) "Acme again" (id 2)`, "cloud-acme", `"Corp" (id 4) "Corp (new link)" (id 5)`, "https://jira.corp.example",
				"Disconnect", "previous release", "version 5"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error does not say %q:\n%v", want, err)
				}
			}
			if strings.Contains(err.Error(), "Globex") || strings.Contains(strings.ToLower(err.Error()), "unique") {
				t.Errorf("the error names an innocent integration or the raw constraint:\n%v", err)
			}
			if ok, _ := db.MigrationsCurrent(ctx); ok {
				t.Fatal("the schema moved on despite the blocked upgrade")
			}
			if err := db.Gorm.Exec("DELETE FROM jira_integrations WHERE id IN (2, 5)").Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Migrate(ctx, nil); err != nil {
				t.Fatalf("migrate after the operator's fix: %v", err)
			}
		})
	}
}
