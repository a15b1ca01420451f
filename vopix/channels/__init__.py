"""Messaging channels (Telegram, WhatsApp)."""
