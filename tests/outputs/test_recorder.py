"""The route pages' results recorder; served links in the walk lists' QR codes."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from plan_factory import make_plan, with_output

from canvass import outputs, schema
from canvass.config import CampaignParams
from canvass.errors import ConfigError, InputError
from canvass.outputs import _maps as maps
from canvass.outputs import _pdf


def _recorder(page: Path) -> dict[str, Any] | None:
    m = re.search(
        r'id="canvass-recorder">(.*?)</script>', page.read_text(encoding="utf-8"), re.S
    )
    return json.loads(m.group(1)) if m else None


def _with_campaign(plan: Any, **campaign: Any) -> Any:
    config = dataclasses.replace(plan.config, campaign=CampaignParams(**campaign))
    return dataclasses.replace(plan, config=config)


def test_route_pages_carry_a_recorder_for_every_targeted_voter(tmp_path: Path) -> None:
    plan = _with_campaign(
        make_plan(n_turfs=3, doors_per_turf=9), survey=("needs_ride",)
    )
    pages = maps.write_route_pages(plan, tmp_path)
    voters = plan.voters
    for page in pages:
        cfg = _recorder(page)
        assert cfg is not None
        assert cfg["route_id"] == page.stem
        assert [c[0] for c in cfg["codes"]] == [c[0] for c in outputs.RESULT_CODES]
        assert cfg["survey"] == [["needs_ride", "Needs a ride to vote", ["Y", "N"]]]
        assert cfg["columns"][-1] == "needs_ride"
        mine = plan.stops[plan.stops[schema.ROUTE_ID] == page.stem]
        targets = voters[
            voters[schema.IS_TARGET] & voters[schema.DOOR_ID].isin(mine[schema.DOOR_ID])
        ]
        listed = {
            p["id"]: s["door"] for s in cfg["stops"].values() for p in s["people"]
        }
        assert listed == dict(
            zip(targets.index.astype(str), targets[schema.DOOR_ID], strict=True)
        )
        assert "Clear this device" in page.read_text()


def test_no_names_in_the_recorder_with_door_names_none(tmp_path: Path) -> None:
    plan = with_output(make_plan(n_turfs=2, doors_per_turf=8), door_names="none")
    page = maps.write_route_pages(plan, tmp_path)[0]
    cfg = _recorder(page)
    assert cfg is not None
    labels = [p["label"] for s in cfg["stops"].values() for p in s["people"]]
    assert labels
    assert all(re.fullmatch(r"Voter \d+", label) for label in labels)
    text = page.read_text()
    for name in plan.voters[schema.LAST_NAME].dropna().unique():
        assert f"{name}" not in text


def test_redacted_pages_have_no_recorder(tmp_path: Path) -> None:
    plan = with_output(make_plan(n_turfs=2, doors_per_turf=8), redact=True)
    page = maps.write_route_pages(plan, tmp_path)[0]
    assert _recorder(page) is None
    assert "canvass-send" not in page.read_text()


def test_qr_codes_open_the_served_page_with_the_routes_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real = _pdf._qr_png
    monkeypatch.setattr(_pdf, "_qr_png", lambda link: seen.append(link) or real(link))
    base = "http://192.168.1.20:8642/"
    plan = _with_campaign(make_plan(n_turfs=3, doors_per_turf=6), serve_url=base)
    outputs.write_walk_lists(plan, tmp_path)
    keys_file = tmp_path / outputs.SECRETS_FILE
    assert keys_file.stat().st_mode & 0o777 == 0o600
    keys = json.loads(keys_file.read_text())
    assert sorted(keys) == sorted(plan.routes.index)
    assert sorted(seen) == sorted(f"{base}r/{r}/{k}/" for r, k in keys.items())
    # without serve_url: the page's address as before
    seen.clear()
    plain = make_plan(
        n_turfs=3, doors_per_turf=6, output={"page_base_url": "https://x.org/c/"}
    )
    outputs.write_walk_lists(plain, tmp_path / "plain")
    assert sorted(seen) == [
        f"https://x.org/c/routes/{r}.html" for r in sorted(plain.routes.index)
    ]
    assert not (tmp_path / "plain" / outputs.SECRETS_FILE).exists()


def test_keys_are_kept_and_a_broken_keys_file_is_one_line(tmp_path: Path) -> None:
    first = outputs.route_secrets(tmp_path, ["A", "B"])
    again = outputs.route_secrets(tmp_path, ["A", "B", "C"])
    assert {k: again[k] for k in first} == first
    assert len(set(again.values())) == 3
    (tmp_path / outputs.SECRETS_FILE).write_text("{not json")
    with pytest.raises(InputError, match="delete it"):
        outputs.route_secrets(tmp_path, ["A"])


@pytest.mark.parametrize(
    "url", ["192.168.1.20:8642/", "http://192.168.1.20:8642", "ftp://x/", "http:///"]
)
def test_serve_url_is_checked(url: str) -> None:
    with pytest.raises(ConfigError, match="serve_url"):
        CampaignParams(serve_url=url)
