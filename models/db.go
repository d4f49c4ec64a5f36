package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the database engine behind a Store.
type Dialect string

const (
	DialectSQLite   Dialect = "sqlite"
	DialectPostgres Dialect = "postgres"
)

// DB is an open database with its dialect.
type DB struct {
	Gorm    *gorm.DB
	SQL     *sql.DB
	Dialect Dialect
}

// Close closes the connection pool.
func (d *DB) Close() error { return d.SQL.Close() }

// Open opens the database named by databaseURL: a postgres:// URL for
// PostgreSQL, otherwise a SQLite file (sqlitePath when databaseURL is empty).
func Open(ctx context.Context, databaseURL, sqlitePath string) (*DB, error) {
	if strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://") {
		return openPostgres(ctx, databaseURL)
	}
	path := sqlitePath
	if databaseURL != "" {
		path = strings.TrimPrefix(strings.TrimPrefix(databaseURL, "sqlite://"), "file:")
	}
	return OpenSQLite(ctx, path)
}

// OpenSQLite opens (creating it if needed) the SQLite file at path with WAL,
// a busy timeout, foreign keys and IMMEDIATE transactions, through the pure-Go
// modernc driver under gorm's sqlite dialector.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	// The file holds password hashes and sealed tokens: owner-only from the
	// start (SQLite gives its -wal and -shm files the same mode).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create database file: %w", err)
	}
	f.Close()
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(ON)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	dsn := "file:" + path + "?" + q.Encode()
	sqlDB, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// Keep every connection idle rather than closing it: a new connection
	// re-runs the pragmas and re-prepares every statement.
	sqlDB.SetMaxOpenConns(4)
	sqlDB.SetMaxIdleConns(4)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// gorm caches one prepared statement per query; see stmtPool.
	cfg := gormConfig()
	cfg.PrepareStmt = true
	g, err := gorm.Open(sqliteDialector{&sqlite.Dialector{Conn: stmtPool{sqlDB}}}, cfg)
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &DB{Gorm: g, SQL: sqlDB, Dialect: DialectSQLite}, nil
}

// openPostgres opens dsn. pgx's errors never echo the URL's password
// (TestPostgresErrorsHidePassword).
func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	// No gorm statement cache here: pgx keeps its own per connection.
	g, err := gorm.Open(postgres.Open(dsn), gormConfig())
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	sqlDB.SetMaxOpenConns(16)
	sqlDB.SetMaxIdleConns(16) // as above: reconnecting re-prepares every statement
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return &DB{Gorm: g, SQL: sqlDB, Dialect: DialectPostgres}, nil
}

func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger:                 logger.Discard,
		TranslateError:         true,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
}

// stmtPool lets gorm prepare each statement once per SQLite connection
// (parsing SQL is a large share of a pure-Go SQLite query). gorm keeps the
// first *sql.Stmt it prepares for a query; prepared on a transaction, that
// statement dies with the transaction and gorm parses the query again on every
// later use. stmtPool's transactions prepare on the pool instead, so the
// cached statement lives on and each transaction borrows it through
// Tx.StmtContext. Preparing on the pool while a transaction holds a
// connection cannot starve: Store.tx admits one SQLite transaction at a time
// and the pool has more connections than that.
type stmtPool struct{ *sql.DB }

func (p stmtPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	tx, err := p.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &stmtTx{Tx: tx, pool: p.DB}, nil
}

func (p stmtPool) GetDBConn() (*sql.DB, error) { return p.DB, nil }

// stmtTx is a pointer for gorm, which checks a transaction with reflect IsNil.
type stmtTx struct {
	*sql.Tx
	pool *sql.DB
}

func (t *stmtTx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.pool.PrepareContext(ctx, query)
}

// sqliteDialector maps modernc's error codes to gorm's sentinels, which the
// stock dialector cannot decode (it expects mattn's error type).
type sqliteDialector struct{ *sqlite.Dialector }

func (d sqliteDialector) Translate(err error) error {
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return gorm.ErrDuplicatedKey
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return gorm.ErrForeignKeyViolated
		}
	}
	return err
}
