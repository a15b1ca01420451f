"""The domain: plain Python, no Reflex, no HTTP."""
