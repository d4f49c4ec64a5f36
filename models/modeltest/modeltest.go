// Package modeltest opens real, migrated test databases: a SQLite file per
// test, and a fresh schema per test on the local PostgreSQL.
package modeltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"privilege/models"
)

// PostgresURLEnv overrides the PostgreSQL server used by tests.
const PostgresURLEnv = "PRIVILEGE_TEST_POSTGRES_URL"

// DefaultPostgresURL is the CI machine's PostgreSQL (trust auth, database test).
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// TestKey is a fixed master key for tests.
var TestKey = []byte("0123456789abcdef0123456789abcdef")

// CheapPasswords keeps Argon2id fast in tests.
var CheapPasswords = models.PasswordParams{Memory: 1024, Time: 1, Threads: 1}

// Dialects runs fn once per database engine as a subtest.
func Dialects(t *testing.T, fn func(t *testing.T, db *models.DB)) {
	t.Helper()
	for _, d := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a migrated, empty database of the given dialect.
func Open(t testing.TB, d models.Dialect) *models.DB {
	t.Helper()
	db := OpenRaw(t, d)
	if err := db.Migrate(context.Background(), nil); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// OpenRaw returns an empty, unmigrated database.
func OpenRaw(t testing.TB, d models.Dialect) *models.DB {
	t.Helper()
	ctx := context.Background()
	if d == models.DialectSQLite {
		db, err := models.OpenSQLite(ctx, filepath.Join(t.TempDir(), "test.db"))
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	dsn := PostgresSchemaURL(t)
	db, err := models.Open(ctx, dsn, "")
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresSchemaURL creates a fresh schema and returns a URL whose
// search_path points at it. The test is skipped with a clear message when no
// PostgreSQL is reachable, except under CI, where it fails.
func PostgresSchemaURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		base = DefaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	admin, err := models.Open(ctx, base, "")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL at %s is required under CI: %v", base, err)
		}
		t.Skipf("PostgreSQL not reachable at %s (set %s): %v", base, PostgresURLEnv, err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if err := admin.Gorm.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		c, err := models.Open(context.Background(), base, "")
		if err != nil {
			return
		}
		defer c.Close()
		c.Gorm.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// NewStore opens a migrated database of dialect d and a Store over it.
func NewStore(t testing.TB, d models.Dialect, opts ...models.StoreOption) *models.Store {
	t.Helper()
	db := Open(t, d)
	sealer, err := models.NewSealer([][]byte{TestKey})
	if err != nil {
		t.Fatal(err)
	}
	return models.NewStore(db, sealer, append([]models.StoreOption{models.WithPasswordParams(CheapPasswords)}, opts...)...)
}

// Stores runs fn once per engine with a fresh Store.
func Stores(t *testing.T, fn func(t *testing.T, s *models.Store)) {
	t.Helper()
	for _, d := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) { fn(t, NewStore(t, d)) })
	}
}

// Must returns v, or panics (failing the test with a stack) on err. It takes
// a call's two results directly: Must(store.CreateUser(...)).
func Must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Errorf("unexpected error: %w", err))
	}
	return v
}
