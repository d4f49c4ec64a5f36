package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"privilege/models"
	"privilege/models/modeltest"
)

// BenchmarkListPages renders the main list pages over 10,000 accounts
// (20,000 resources) and 10,000 audit events, through e.ServeHTTP, signed in
// as an admin. Each must stay well under 20 ms/op.
func BenchmarkListPages(b *testing.B) {
	for _, d := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		b.Run(string(d), func(b *testing.B) {
			db := modeltest.Open(b, d)
			sealer := modeltest.Must(models.NewSealer([][]byte{modeltest.TestKey}))
			store := models.NewStore(db, sealer, models.WithPasswordParams(modeltest.CheapPasswords))
			app := newTestApp(b, store)
			admin := modeltest.Must(store.CreateFirstAdmin(context.Background(), "", models.NewUser{Email: "admin@example.com", Password: testPassword}))
			for i := range 20 {
				app.addToken(admin.ID)
				app.addUser(fmt.Sprintf("user%02d@example.com", i), models.RoleRequester)
			}
			bulkInsert(b, db, 10_000)
			c := app.signedIn("admin@example.com")
			for _, path := range []string{"/accounts", "/accounts?page=100", "/accounts?q=team-042", "/users", "/audit", "/tokens"} {
				b.Run(path, func(b *testing.B) {
					req := httptest.NewRequest(http.MethodGet, app.origin+path, nil)
					if rec := c.do(req.Clone(context.Background())); rec.Code != http.StatusOK {
						b.Fatalf("%s: %d", path, rec.Code)
					}
					b.ResetTimer()
					for b.Loop() {
						c.do(req.Clone(context.Background()))
					}
				})
			}
		})
	}
}

// bulkInsert adds n accounts with two resources each and n audit events in
// one transaction, with plain SQL (the Store has no bulk API on purpose).
func bulkInsert(b *testing.B, db *models.DB, n int) {
	b.Helper()
	ph := func(i int) string {
		if db.Dialect == models.DialectPostgres {
			return fmt.Sprintf("$%d", i)
		}
		return "?"
	}
	tx, err := db.SQL.Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	now := time.Now().UTC()
	accStmt := "INSERT INTO cloud_accounts (provider, external_id, name, max_duration_minutes, created_at, updated_at) VALUES (" +
		ph(1) + "," + ph(2) + "," + ph(3) + ",480," + ph(4) + "," + ph(5) + ") RETURNING id"
	resStmt := "INSERT INTO account_resources (account_id, name, kind) VALUES (" + ph(1) + "," + ph(2) + ",'role'), (" + ph(3) + "," + ph(4) + ",'role')"
	audStmt := "INSERT INTO audit_events (at, actor_email, action, target_type, target_id, detail) VALUES (" +
		ph(1) + ",'admin@example.com','account.created','account'," + ph(2) + "," + ph(3) + ")"
	for i := range n {
		var id int64
		name := fmt.Sprintf("team-%03d account %05d", i%1000, i)
		if err := tx.QueryRow(accStmt, "aws", fmt.Sprintf("%012d", 100000000000+i), name, now, now).Scan(&id); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(resStmt, id, "ReadOnly", id, "Admin"); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(audStmt, now, fmt.Sprint(id), name); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	// Fresh planner statistics, as autovacuum (PostgreSQL) or PRAGMA optimize
	// (SQLite) would have after a real bulk load.
	if _, err := db.SQL.Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}
}
