package models

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"privilege/migrations"
)

func (d *DB) provider(logger *slog.Logger) (*goose.Provider, error) {
	var (
		dialect goose.Dialect
		fsys    fs.FS
		err     error
		opts    []goose.ProviderOption
	)
	switch d.Dialect {
	case DialectPostgres:
		dialect = goose.DialectPostgres
		fsys, err = fs.Sub(migrations.Postgres, "postgres")
		locker, lerr := lock.NewPostgresSessionLocker()
		if lerr != nil {
			return nil, fmt.Errorf("migration lock: %w", lerr)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	default:
		dialect = goose.DialectSQLite3
		fsys, err = fs.Sub(migrations.SQLite, "sqlite")
	}
	if err != nil {
		return nil, err
	}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger))
	}
	return goose.NewProvider(dialect, d.SQL, fsys, opts...)
}

// Migrate applies every pending migration. Concurrent starts against one
// PostgreSQL serialise on an advisory lock, so each migration runs once.
func (d *DB) Migrate(ctx context.Context, logger *slog.Logger) error {
	p, err := d.provider(logger)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// A database without goose's version table is empty: nothing to check.
	if cur, err := p.GetDBVersion(ctx); err == nil {
		if err := d.preflight(ctx, cur); err != nil {
			return err
		}
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// ErrUpgradeBlocked means the data needs an operator's decision before a
// pending migration can run; the database is left at its current version,
// which the previous release still serves.
var ErrUpgradeBlocked = errors.New("upgrade blocked")

// oneIntegrationPerSite is the migration that makes each Jira site unique.
const oneIntegrationPerSite = 6

// preflight checks the data against pending migrations whose constraints it
// could violate, so the operator gets a decision to make instead of a raw
// constraint failure.
func (d *DB) preflight(ctx context.Context, cur int64) error {
	if cur >= oneIntegrationPerSite || cur < 2 { // before 2 there are no integrations
		return nil
	}
	var rows []struct {
		ID         int64
		Name       string
		Deployment string
		Site       string
	}
	// Hand-written, not through the Integration model: it reads the schema as
	// it is before the migration, which the model need not match.
	err := d.Gorm.WithContext(ctx).Raw(`
		SELECT id, name, deployment, CASE WHEN deployment = 'cloud' THEN cloud_id ELSE base_url END AS site
		FROM jira_integrations i
		WHERE EXISTS (SELECT 1 FROM jira_integrations o WHERE o.id <> i.id AND o.deployment = i.deployment
			AND ((i.deployment = 'cloud' AND o.cloud_id = i.cloud_id) OR (i.deployment = 'datacenter' AND o.base_url = i.base_url)))
		ORDER BY deployment, site, id`).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("migrate: check integrations before migration %05d: %w", oneIntegrationPerSite, err)
	}
	if len(rows) == 0 {
		return nil
	}
	var b strings.Builder
	for i, r := range rows {
		if i == 0 || r.Site != rows[i-1].Site || r.Deployment != rows[i-1].Deployment {
			what := "Jira Cloud site (cloud id)"
			if r.Deployment == "datacenter" {
				what = "Jira Data Center"
			}
			fmt.Fprintf(&b, "\n  - %s %s:", what, r.Site)
		}
		fmt.Fprintf(&b, " %q (id %d)", r.Name, r.ID)
	}
	return fmt.Errorf("migrate: migration %05d allows one integration per Jira site, but several integrations connect the same site:%s\n"+
		"Keep running the previous release (the database is unchanged and still at version %d), open Integrations and Disconnect "+
		"all but one integration of each site (link its projects on the one you keep), then start this release again: %w",
		oneIntegrationPerSite, b.String(), cur, ErrUpgradeBlocked)
}

// MigrationsCurrent reports whether the schema is at the embedded head.
func (d *DB) MigrationsCurrent(ctx context.Context) (bool, error) {
	p, err := d.provider(nil)
	if err != nil {
		return false, err
	}
	cur, err := p.GetDBVersion(ctx)
	if err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	srcs := p.ListSources()
	if len(srcs) == 0 {
		return true, nil
	}
	return cur >= srcs[len(srcs)-1].Version, nil
}
