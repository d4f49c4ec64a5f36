package models_test

import (
	"context"
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
