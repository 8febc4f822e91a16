"""Middleware that guards every request: body size, and a database that stays busy."""
