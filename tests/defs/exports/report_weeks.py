"""The weeks the export fixture's marts describe (a module of its own: test files import it,
and `from conftest import` would find whichever conftest pytest loaded last)."""

from datetime import datetime

WEEK = "2026-W46"  # Monday 2026-11-09 (Asia/Shanghai)
LAST_WEEK = "2026-W45"
WEEK_START_UTC = datetime(2026, 11, 8, 16, 0)  # Monday 00:00 in Shanghai
