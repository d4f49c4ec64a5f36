package jira

// CloudConfigured reports whether the operator configured the Atlassian
// Cloud OAuth app (PRIVILEGE_ATLASSIAN_CLIENT_ID); without it only Data
// Center can be connected.
func (o *OAuth) CloudConfigured() bool { return o.cfg.CloudClientID != "" }

// RedirectURL is the callback URL an admin registers on the OAuth app.
func (o *OAuth) RedirectURL() string { return o.cfg.RedirectURL }
