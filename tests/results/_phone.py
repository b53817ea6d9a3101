"""Helpers of the phone tests: Chromium, and the recorder's view of a route page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from _chromium import launch  # noqa: F401 (re-exported to the phone tests)


def recorder(page_html: str) -> dict[str, Any]:
    """The recorder configuration embedded in a route page."""
    m = re.search(
        r'<script type="application/json" id="canvass-recorder">(.*?)</script>',
        page_html,
        re.S,
    )
    assert m, "the route page has no results recorder"
    data: dict[str, Any] = json.loads(m.group(1))
    return data


def biggest_route(run_dir: Path) -> tuple[str, dict[str, Any]]:
    """The route whose page lists the most people, and its recorder configuration."""
    best: tuple[int, str, dict[str, Any]] = (-1, "", {})
    for path in sorted((run_dir / "routes").glob("*.html")):
        cfg = recorder(path.read_text(encoding="utf-8"))
        n = sum(len(s["people"]) for s in cfg["stops"].values())
        if n > best[0]:
            best = (n, path.stem, cfg)
    return best[1], best[2]


def tap(page: Any, voter: str, code: str) -> None:
    """Tap a result for a voter and wait until it is kept."""
    box = page.locator(f'.rec[data-voter="{voter}"]')
    box.locator(f'button[data-code="{code}"]').click()
    box.locator(f'button.on[data-code="{code}"]').wait_for()


def answer(page: Any, voter: str, question: str, value: str) -> None:
    """Tap a survey answer for a contacted voter and wait until it is kept."""
    row = page.locator(f'.rec[data-voter="{voter}"] .answers[data-q="{question}"]')
    row.locator(f'button[data-answer="{value}"]').click()
    row.locator(f'button.on[data-answer="{value}"]').wait_for()


def unsent(page: Any) -> int:
    """The page's count of results not yet sent."""
    page.wait_for_function(
        "() => document.getElementById('unsent').hasAttribute('data-unsent')"
    )
    return int(page.get_attribute("#unsent", "data-unsent"))
