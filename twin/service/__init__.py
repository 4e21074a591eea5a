"""The twin as a service: an authenticated, audited HTTP API over the library
(docs/architecture.md, "Decision service")."""
