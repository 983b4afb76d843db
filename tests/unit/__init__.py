"""Unit tests: pure code only, no stack (no Postgres, Redis or processes); `make unit`."""
