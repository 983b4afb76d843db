"""A Telegram Bot API emulator that speaks Telegram's wire format.

aiogram (or any Bot API client) talks to it as to api.telegram.org; a control
API lets tests and people act as members and read what the bot sent. See
``app.create_app`` and ``control``.
"""
