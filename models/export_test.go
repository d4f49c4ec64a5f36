package models

import "context"

// MigrateUpTo applies migrations up to version (tests of data migrations).
func MigrateUpTo(ctx context.Context, d *DB, version int64) error {
	p, err := d.provider(nil)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}
