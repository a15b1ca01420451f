"""URL paths of the API routes that pages and states link to, in one place: the route table
(vopix/api/app.py) registers them and states build links from them, so a state never imports
the API layer to know an address."""

from __future__ import annotations

EXPORT_DOWNLOAD = "/api/privacy/exports/{export_id}/download"


def export_download_url(export_id: int) -> str:
    """The link to one data export's ZIP (served to its owner only)."""
    return EXPORT_DOWNLOAD.format(export_id=int(export_id))
