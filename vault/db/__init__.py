"""Persistence: tables, engine/session set-up and migrations."""
