package main

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"time"

	"privilege/models"
)

// app is what every subcommand shares: configuration, logger, database, store.
type app struct {
	cfg    Config
	log    *slog.Logger
	db     *models.DB
	store  *models.Store
	sealer *models.Sealer
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// openApp resolves the secret key, opens and migrates the database.
func openApp(ctx context.Context, cfg Config, logger *slog.Logger) (*app, error) {
	generated, err := cfg.resolveSecretKeys()
	if err != nil {
		return nil, err
	}
	if generated {
		logger.Info("generated a new secret key in the data dir; back it up with the database", "dir", cfg.DataDir)
	}
	sealer, err := models.NewSealer(cfg.SecretKeys)
	if err != nil {
		return nil, err
	}
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := models.Open(openCtx, cfg.DatabaseURL, cfg.SQLitePath())
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := db.Migrate(ctx, logger); err != nil {
		db.Close()
		return nil, err
	}
	return &app{cfg: cfg, log: logger, db: db, store: models.NewStore(db, sealer,
		models.WithRequestRateLimit(models.RequestRateLimit{Max: cfg.RequestsPerHour, Per: time.Hour})), sealer: sealer}, nil
}

func (a *app) Close() error { return a.db.Close() }

// sessionKeys derives the cookie hash and block keys from each master key.
func sessionKeys(masters [][]byte) ([][]byte, error) {
	var out [][]byte
	for _, m := range masters {
		hash, err := hkdf.Key(sha256.New, m, nil, "privilege session hash v1", 64)
		if err != nil {
			return nil, err
		}
		block, err := hkdf.Key(sha256.New, m, nil, "privilege session block v1", 32)
		if err != nil {
			return nil, err
		}
		out = append(out, hash, block)
	}
	return out, nil
}

func migrate(ctx context.Context, cfg Config, stdout io.Writer) error {
	a, err := openApp(ctx, cfg, newLogger(stdout, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}
