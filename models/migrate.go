package models

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"

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
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
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
