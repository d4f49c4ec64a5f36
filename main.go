// Command privilege is a self-hostable just-in-time access console whose Jira
// integration tracks every access request as a Jira task.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "privilege:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a command-line mistake: exit code 2 and the usage text.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg + "\n\n" + usage }

const usage = `usage:
  privilege [serve]          run the console and the Jira syncer
  privilege demo             the same, plus a built-in Jira simulator and sample data
  privilege migrate          apply database migrations and exit
  privilege rotate-keys      re-encrypt stored Jira secrets under the newest PRIVILEGE_SECRET_KEY
  privilege backup FILE      online copy of the SQLite database to FILE (PostgreSQL: use pg_dump)
  privilege user create --email E --role admin|approver|requester [--name N] [--password P | --password-stdin]
  privilege user set-password --email E [--password P | --password-stdin]
  privilege token create --email E --name N
  privilege healthcheck      exit 0 when the local server answers /healthz (container HEALTHCHECK)

Configuration comes from PRIVILEGE_* environment variables (see README.md).`

// run is the whole program; it holds no globals so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	switch cmd {
	case "serve":
		if len(args) > 0 {
			return usageError{"serve takes no arguments"}
		}
		return serve(ctx, cfg, stdout, nil)
	case "demo":
		if len(args) > 0 {
			return usageError{"demo takes no arguments"}
		}
		return runDemo(ctx, cfg, stdout)
	case "migrate":
		if len(args) > 0 {
			return usageError{"migrate takes no arguments"}
		}
		return migrate(ctx, cfg, stdout)
	case "rotate-keys":
		if len(args) > 0 {
			return usageError{"rotate-keys takes no arguments"}
		}
		return rotateKeys(ctx, cfg, stdout)
	case "backup":
		return backup(ctx, cfg, args, stdout)
	case "user":
		return userCommand(ctx, cfg, args, stdin, stdout)
	case "token":
		return tokenCommand(ctx, cfg, args, stdout)
	case "healthcheck":
		return healthcheck(ctx, cfg)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}
