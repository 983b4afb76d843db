"""What the bot shows: texts, keyboards, moderation cards, thread pages (no I/O)."""
