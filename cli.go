package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"privilege/models"
)

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func userCommand(ctx context.Context, cfg Config, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "set-password" {
		return userSetPassword(ctx, cfg, args[1:], stdin, stdout)
	}
	if len(args) == 0 || args[0] != "create" {
		return usageError{"user: expected \"user create\" or \"user set-password\""}
	}
	fs := newFlagSet("user create")
	email := fs.String("email", "", "email address")
	name := fs.String("name", "", "display name")
	role := fs.String("role", "", "admin, approver or requester")
	password := fs.String("password", "", "password")
	fromStdin := fs.Bool("password-stdin", false, "read the password from stdin")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{"user create: " + err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{"user create: unexpected argument " + fs.Arg(0)}
	}
	if *email == "" || *role == "" {
		return usageError{"user create: --email and --role are required"}
	}
	if err := readPassword("user create", password, *fromStdin, stdin); err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, newLogger(io.Discard, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.store.CreateUser(ctx, models.Actor{Email: "cli"}, models.NewUser{Email: *email, Name: *name, Password: *password, Role: models.Role(*role)})
	if err != nil {
		return describeValidation("user create", err)
	}
	fmt.Fprintf(stdout, "created %s user %s (id %d)\n", u.Role, u.Email, u.ID)
	return nil
}

// readPassword takes the password from --password or, with
// --password-stdin, from the first line of stdin (exactly one of them).
func readPassword(cmd string, password *string, fromStdin bool, stdin io.Reader) error {
	if fromStdin == (*password != "") {
		return usageError{cmd + ": give exactly one of --password or --password-stdin"}
	}
	if fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password from stdin: %w", err)
		}
		*password = strings.TrimRight(line, "\r\n")
	}
	return nil
}

// userSetPassword is an admin's password reset: it sets a user's local
// password (a single sign-on user gains one, for break-glass) and ends all of
// their sessions.
func userSetPassword(ctx context.Context, cfg Config, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlagSet("user set-password")
	email := fs.String("email", "", "email address")
	password := fs.String("password", "", "new password")
	fromStdin := fs.Bool("password-stdin", false, "read the new password from stdin")
	if err := fs.Parse(args); err != nil {
		return usageError{"user set-password: " + err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{"user set-password: unexpected argument " + fs.Arg(0)}
	}
	if *email == "" {
		return usageError{"user set-password: --email is required"}
	}
	if err := readPassword("user set-password", password, *fromStdin, stdin); err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, newLogger(io.Discard, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.store.SetPassword(ctx, models.Actor{Email: "cli"}, *email, *password)
	if errors.Is(err, models.ErrNotFound) {
		return fmt.Errorf("user set-password: no user with email %s", *email)
	}
	if err != nil {
		return describeValidation("user set-password", err)
	}
	fmt.Fprintf(stdout, "password set for %s %s (id %d); their sessions have ended\n", u.Role, u.Email, u.ID)
	return nil
}

func tokenCommand(ctx context.Context, cfg Config, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{"token: expected \"token create\""}
	}
	fs := newFlagSet("token create")
	email := fs.String("email", "", "email of the token's user")
	name := fs.String("name", "", "what the token is for")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{"token create: " + err.Error()}
	}
	if *email == "" || *name == "" || fs.NArg() > 0 {
		return usageError{"token create: --email and --name are required"}
	}
	a, err := openApp(ctx, cfg, newLogger(io.Discard, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.store.UserByEmail(ctx, *email)
	if errors.Is(err, models.ErrNotFound) {
		return fmt.Errorf("token create: no user with email %s", *email)
	}
	if err != nil {
		return err
	}
	plain, _, err := a.store.CreateAPIToken(ctx, models.Actor{Email: "cli"}, u.ID, *name)
	if err != nil {
		return describeValidation("token create", err)
	}
	fmt.Fprintln(stdout, plain)
	return nil
}

// describeValidation turns field errors into one readable CLI error.
func describeValidation(cmd string, err error) error {
	var ve *models.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	var b strings.Builder
	for f, m := range ve.Fields {
		fmt.Fprintf(&b, "\n  --%s: %s", f, m)
	}
	return fmt.Errorf("%s: invalid input:%s", cmd, b.String())
}
