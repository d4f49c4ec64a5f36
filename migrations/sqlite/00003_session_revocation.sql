-- +goose Up
-- Signing out invalidates every session of the user issued before this time
-- (sessions live in signed cookies, so a copied cookie is revoked here).
ALTER TABLE users ADD COLUMN sessions_valid_after DATETIME;

-- +goose Down
ALTER TABLE users DROP COLUMN sessions_valid_after;
