"""Reflex states: thin, they call core/."""
