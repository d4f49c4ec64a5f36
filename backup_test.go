package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"privilege/models"
)

// TestBackupWhileServing: `privilege backup FILE` copies the SQLite database
// while the server runs; the copy is owner-only, current, and holds the data
// (a restore is copying it back as privilege.db). It never overwrites a file
// and points PostgreSQL operators to pg_dump.
func TestBackupWhileServing(t *testing.T) {
	addr := freeAddr(t)
	vars := map[string]string{"PRIVILEGE_DATA_DIR": t.TempDir(), "PRIVILEGE_ADDR": addr, "PRIVILEGE_BASE_URL": "http://" + addr, "PRIVILEGE_LOG_LEVEL": "error"}
	if _, err := runCLI(t, vars, "", "user", "create", "--email", "root@example.com", "--role", "admin", "--password", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	stop := serveUntilReady(t, vars, "http://"+addr)
	dst := filepath.Join(t.TempDir(), "privilege-backup.db")
	out, err := runCLI(t, vars, "", "backup", dst)
	if err != nil || !strings.Contains(out, "backed up") || !strings.Contains(out, "secret.key") {
		t.Fatalf("backup while serving: %q %v", out, err)
	}
	stop()
	st, err := os.Stat(dst)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", st, err)
	}
	ctx := context.Background()
	db, err := models.OpenSQLite(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if ok, err := db.MigrationsCurrent(ctx); !ok || err != nil {
		t.Fatalf("backup schema current: %v %v", ok, err)
	}
	var n int64
	if err := db.Gorm.Raw("SELECT count(*) FROM users WHERE email = 'root@example.com'").Scan(&n).Error; err != nil || n != 1 {
		t.Fatalf("the backup lacks the user: %d %v", n, err)
	}

	if _, err := runCLI(t, vars, "", "backup", dst); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("backup over an existing file: %v", err)
	}
	var ue usageError
	if _, err := runCLI(t, vars, "", "backup"); !errors.As(err, &ue) {
		t.Fatalf("backup without a file: %v", err)
	}
	pg := map[string]string{"PRIVILEGE_DATA_DIR": t.TempDir(), "PRIVILEGE_DATABASE_URL": "postgres://privilege@db.example:5432/privilege"}
	if _, err := runCLI(t, pg, "", "backup", filepath.Join(t.TempDir(), "x.db")); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("backup with PostgreSQL: %v", err)
	}
}
