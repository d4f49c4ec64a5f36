package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"privilege/models"
)

// backup is `privilege backup <file>`: an online, consistent copy of the
// SQLite database while the server keeps running. It neither migrates nor
// needs the secret key; the key must be kept beside the copy, though.
func backup(ctx context.Context, cfg Config, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] == "" {
		return usageError{"backup: expected one argument, the file to write"}
	}
	if cfg.DatabaseURL != "" {
		return fmt.Errorf("backup: %w (PRIVILEGE_DATABASE_URL is set); see README.md, Backup and restore", models.ErrBackupUnsupported)
	}
	src := cfg.SQLitePath()
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("backup: no database at %s (PRIVILEGE_DATA_DIR=%s): %w", src, cfg.DataDir, err)
	}
	dst, err := filepath.Abs(args[0])
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	db, err := models.OpenSQLite(ctx, src)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer db.Close()
	if err := db.BackupSQLite(ctx, dst); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s\n", src, dst)
	if !cfg.secretKeyFromEnv {
		fmt.Fprintf(stdout, "keep %s with it: without that key the stored Jira tokens cannot be read\n", filepath.Join(cfg.DataDir, "secret.key"))
	} else {
		fmt.Fprintln(stdout, "keep PRIVILEGE_SECRET_KEY with it: without that key the stored Jira tokens cannot be read")
	}
	return nil
}
