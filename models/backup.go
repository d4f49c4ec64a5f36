package models

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// ErrBackupUnsupported means the database engine has its own backup tools.
var ErrBackupUnsupported = errors.New("online backup is for SQLite; back up PostgreSQL with pg_dump")

// BackupSQLite writes a consistent copy of the live SQLite database to path
// (VACUUM INTO: one read transaction, so writers carry on; the copy is
// compact and has no -wal file). path must not exist; the copy is created
// owner-only, like the database, since it holds password hashes and sealed
// secrets.
func (d *DB) BackupSQLite(ctx context.Context, path string) error {
	if d.Dialect != DialectSQLite {
		return ErrBackupUnsupported
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("backup: %s already exists; choose a new file name", path)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f.Close()
	// VACUUM INTO accepts an existing empty file, so the mode above stays.
	if _, err := d.SQL.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}
