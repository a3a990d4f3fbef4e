"""The pages (server-rendered HTML)."""
