"""The REST API v2 handlers, one module per resource (users, schedules and on-calls, services, incidents, logs)."""
