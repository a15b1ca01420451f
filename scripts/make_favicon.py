"""Write assets/favicon.ico: a 32x32 accent-blue rounded square with a white "V".

Drawn by hand (no image library, no download) so it can be regenerated; run from the repo root.
"""

from __future__ import annotations

import struct
from pathlib import Path

SIZE = 32
ACCENT = (0x3B, 0x5B, 0xDB)  # --vx-accent in assets/vopix.css
WHITE = (0xFF, 0xFF, 0xFF)


def _pixel(x: int, y: int) -> tuple[int, int, int, int]:
    """RGBA at (x, y), y from the top."""
    r = 7  # corner radius
    cx = min(max(x, r), SIZE - 1 - r)
    cy = min(max(y, r), SIZE - 1 - r)
    if (x - cx) ** 2 + (y - cy) ** 2 > r * r:
        return (0, 0, 0, 0)  # outside the rounded corner: transparent
    # The V: two strokes from the top corners (8, 7) and (23, 7) meeting at (15.5, 25).
    if 7 <= y <= 25:
        t = (y - 7) / 18
        left, right = 8 + 7.5 * t, 23 - 7.5 * t
        if abs(x - left) <= 2 or abs(x - right) <= 2:
            return (*WHITE, 255)
    return (*ACCENT, 255)


def ico_bytes() -> bytes:
    rows = []
    for y in reversed(range(SIZE)):  # a BMP stores the bottom row first
        rows.append(b"".join(bytes((b, g, r, a)) for r, g, b, a in (_pixel(x, y) for x in range(SIZE))))
    pixels = b"".join(rows)
    mask = bytes(SIZE * 4)  # 1-bit AND mask, rows padded to 4 bytes; alpha does the work
    info = struct.pack("<IiiHHIIiiII", 40, SIZE, SIZE * 2, 1, 32, 0, len(pixels) + len(mask), 0, 0, 0, 0)
    image = info + pixels + mask
    header = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", SIZE, SIZE, 0, 0, 1, 32, len(image), 6 + 16)
    return header + entry + image


if __name__ == "__main__":
    Path("assets/favicon.ico").write_bytes(ico_bytes())
