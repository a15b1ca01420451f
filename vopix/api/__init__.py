"""HTTP routes: thin, they validate input, call core/, and shape the answer."""
