package main

import (
	"context"
	"fmt"
	"io"

	"privilege/models"
)

// resealBatch is how many integrations one re-seal statement batch reads.
const resealBatch = 100

// resealSecrets moves every stored Jira token and Data Center client secret
// to the newest PRIVILEGE_SECRET_KEY (serve runs it at start, rotate-keys on
// demand). It is safe with several replicas and beside token refreshes (see
// models.Store.ResealSecrets).
func (a *app) resealSecrets(ctx context.Context) (models.ResealReport, error) {
	rep, err := a.store.ResealSecrets(ctx, resealBatch)
	if err != nil {
		return rep, fmt.Errorf("re-seal secrets under the newest key: %w", err)
	}
	if rep.Resealed > 0 {
		a.log.Info("re-sealed Jira secrets under the newest secret key; older keys can leave PRIVILEGE_SECRET_KEY once every replica runs with the new key first",
			"integrations", rep.Resealed)
	}
	if len(rep.Unreadable) > 0 {
		a.log.Warn("some integrations' secrets were sealed under a key PRIVILEGE_SECRET_KEY no longer lists: put that key back (after the new one) or reconnect them",
			"integration_ids", rep.Unreadable)
	}
	return rep, nil
}

// rotateKeys is `privilege rotate-keys`: re-seal now and say what happened.
func rotateKeys(ctx context.Context, cfg Config, stdout io.Writer) error {
	a, err := openApp(ctx, cfg, newLogger(io.Discard, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	rep, err := a.resealSecrets(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "checked %d integrations, re-sealed %d under the newest key\n", rep.Checked, rep.Resealed)
	if len(rep.Unreadable) > 0 {
		return fmt.Errorf("rotate-keys: integrations %v are sealed under a key that is not in PRIVILEGE_SECRET_KEY: add that key after the newest one and run rotate-keys again, or reconnect them", rep.Unreadable)
	}
	if len(cfg.SecretKeys) > 1 {
		fmt.Fprintln(stdout, "every stored secret uses the newest key; the older keys can be removed from PRIVILEGE_SECRET_KEY (signed-in sessions made with them end)")
	}
	return nil
}
