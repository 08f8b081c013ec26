"""This capability's tables (its slice of the migration versions: see bot/migrations.py)."""

from __future__ import annotations

from bot.store import Migration

MIGRATIONS: list[Migration] = []
