-- +goose Up
-- Single sign-on (design.md §11): a user signed in through OpenID Connect is
-- identified by the issuer and its subject, never by email alone. Local users
-- have both NULL; a local user linked at their first SSO sign-in keeps the
-- password (break-glass). SSO-only users have an empty password_hash.
ALTER TABLE users ADD COLUMN oidc_issuer TEXT;
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
ALTER TABLE users ADD COLUMN last_sign_in_at DATETIME;
CREATE UNIQUE INDEX users_oidc_identity ON users(oidc_issuer, oidc_subject) WHERE oidc_subject IS NOT NULL;

-- +goose Down
DROP INDEX users_oidc_identity;
ALTER TABLE users DROP COLUMN last_sign_in_at;
ALTER TABLE users DROP COLUMN oidc_subject;
ALTER TABLE users DROP COLUMN oidc_issuer;
