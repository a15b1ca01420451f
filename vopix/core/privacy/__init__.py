"""Privacy controls (issue 12): export (export*.py), deletion and purge, staff audit, policy
versions — one module each. Plain Python: no Reflex, no HTTP."""
