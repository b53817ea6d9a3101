"""Time canvass's Massachusetts loader on a large synthetic VOT + ANP/ACP file set.

Usage: python bench/load_speed.py [--voters 1000000] [--votes-per-voter 5] [--keep DIR]
                                  [--compress gzip|bz2|xz|zip]

Writes made-up voters (no real people) in the MA layout to a temporary folder, loads
them with canvass.load.load_voter_file, and prints rows per second and peak memory.
With ``--compress`` the three files are compressed first (as a state publishes them;
zip: one archive, members picked by pattern) and only the compressed set is loaded,
so the peak memory is that of the compressed load; run once without it to compare.
The last line is ``load: voters=<n> history=<n> seconds=<s> rows_per_s=<n>``.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import lzma
import resource
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from canvass import load
from canvass.config import PlanConfig

ELECTIONS = [
    ("STATE PRIMARY", "09/09/2014"), ("STATE ELECTION", "11/04/2014"),
    ("PRESIDENTIAL PRIMARY", "03/01/2016"), ("STATE PRIMARY", "09/08/2016"),
    ("STATE ELECTION", "11/08/2016"), ("STATE PRIMARY", "09/04/2018"),
    ("STATE ELECTION", "11/06/2018"), ("PRESIDENTIAL PRIMARY", "03/03/2020"),
    ("STATE PRIMARY", "09/01/2020"), ("STATE ELECTION", "11/03/2020"),
    ("STATE PRIMARY", "09/06/2022"), ("STATE ELECTION", "11/08/2022"),
]  # fmt: skip
STREETS = np.array([f"{w} {s}" for w in ("ELM", "MAIN", "OAK", "KING", "PINE", "HIGH")
                    for s in ("ST", "RD", "AVE", "LN")])  # fmt: skip


def _col(values: np.ndarray) -> pd.Series:
    return pd.Series(values.astype(str))


def _lines(cols: list[pd.Series]) -> str:
    """Pipe-join columns into MA lines (with the trailing empty field), vectorised."""
    out = cols[0].astype(str)
    for c in cols[1:]:
        out = out + "|" + c.astype(str)
    return "\n".join(out.tolist()) + "\n"


def write_files(folder: Path, n: int, votes: int, seed: int) -> tuple[Path, Path, Path]:
    """Write VOT, ANP and ACP files for `n` voters with about `votes` votes each."""
    rng = np.random.default_rng(seed)
    ids = pd.Series(np.arange(n)).map(lambda i: f"{i % 100:02d}ABC{i:07d}")
    empty = pd.Series([""] * n)
    born = pd.to_datetime(rng.integers(-18000, 10000, n), unit="D")
    registered = pd.to_datetime(rng.integers(10000, 19000, n), unit="D")
    units = np.where(rng.random(n) < 0.2, rng.integers(1, 9, n).astype(str), "")
    cols = [
        _col(np.arange(1, n + 1)), ids,
        _col(rng.choice(["SMITH", "NGUYEN", "GARCÍA"], n)),
        _col(rng.choice(["ANA", "BOB", "CY"], n)), empty, empty,
        _col(rng.integers(1, 400, n)), empty, _col(rng.choice(STREETS, n)),
        _col(units), _col(rng.choice(["01060", "01062", "01002"], n)),
        empty, empty, empty, empty, empty,
        _col(rng.choice(["D", "R", "U", "U"], n)), _col(rng.choice(["M", "F"], n)),
        _col(born.strftime("%m/%d/%Y").to_numpy()),
        _col(registered.strftime("%m/%d/%Y").to_numpy()),
        _col(rng.integers(1, 9, n)), _col(rng.choice(["A", "B", "C"], n)),
        empty, empty, empty, _col(np.where(rng.random(n) < 0.9, "A", "I")), empty,
    ]  # fmt: skip
    vot = folder / "VOT.txt"
    vot.write_text(_lines(cols))
    m = n * votes
    who = rng.integers(0, n, m)
    which = rng.integers(0, len(ELECTIONS), m)
    pairs = pd.DataFrame({"who": who, "which": which}).drop_duplicates()
    kinds = np.array([k for k, _ in ELECTIONS])[pairs["which"]]
    dates = np.array([d for _, d in ELECTIONS])[pairs["which"]]
    hid = ids.to_numpy()[pairs["who"]]
    primary = np.char.find(kinds.astype(str), "PRIMARY") >= 0
    paths = []
    for name, mask in (("ANP.txt", ~primary), ("ACP.txt", primary)):
        k = int(mask.sum())
        e = [""] * k
        parts = [["D"] * k, hid[mask], ["SMITH"] * k, ["ANA"] * k, e, ["1"] * k, e]
        parts += [["ELM ST"] * k, e, ["01060"] * k, kinds[mask], dates[mask]]
        if name == "ACP.txt":
            parts.append(["D"] * k)
        parts += [["TOWN"] * k, ["T"] * k, ["214"] * k, e, ["1"] * k, ["A"] * k,
                  ["A"] * k, e, e, e, e, e, e]  # fmt: skip
        path = folder / name
        path.write_text(_lines([pd.Series(np.asarray(p, dtype=object)) for p in parts]))
        paths.append(path)
    return vot, paths[0], paths[1]


def compress(paths: tuple[Path, Path, Path], kind: str) -> tuple[str, str, str]:
    """Compress the files (removing the plain ones); return the config's patterns."""
    if kind == "zip":
        archive = paths[0].with_name("export.zip")
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in paths:
                zf.write(p, p.name)
                p.unlink()
        return (f"{archive}:VOT*", f"{archive}:ANP*", f"{archive}:ACP*")
    opener = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}[kind]
    out = []
    for p in paths:
        packed = p.with_name(f"{p.name}.{kind}")
        with p.open("rb") as src, opener(packed, "wb") as dst:
            while chunk := src.read(1 << 24):
                dst.write(chunk)
        p.unlink()
        out.append(str(packed))
    return out[0], out[1], out[2]


def main() -> None:
    """Generate, load and time."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voters", type=int, default=200_000)
    parser.add_argument("--votes-per-voter", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--compress", choices=["gzip", "bz2", "xz", "zip"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        vot, anp, acp = write_files(
            folder, args.voters, args.votes_per_voter, args.seed
        )
        print(f"generated in {time.perf_counter() - t0:.1f} s")
        plain_mb = sum(p.stat().st_size for p in (vot, anp, acp)) / 2**20
        names = (str(vot), str(anp), str(acp))
        if args.compress:
            t0 = time.perf_counter()
            names = compress((vot, anp, acp), args.compress)
            packed = {Path(n.split(":")[0]) for n in names}
            packed_mb = sum(p.stat().st_size for p in packed) / 2**20
            print(
                f"compressed {plain_mb:.0f} MB to {packed_mb:.0f} MB "
                f"({args.compress}) in {time.perf_counter() - t0:.1f} s"
            )
        else:
            print(f"plain text: {plain_mb:.0f} MB")
        config = PlanConfig.from_dict(
            {"inputs": {"voters": [names[0]], "history": list(names[1:])}}
        )
        t0 = time.perf_counter()
        result = load.load_voter_file(config)
        seconds = time.perf_counter() - t0
    rows = len(result.voters) + len(result.history) + len(result.rejects)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rejected={len(result.rejects)} peak_rss_mb={peak_mb:.0f}")
    print(
        f"load{'/' + args.compress if args.compress else ''}: "
        f"voters={len(result.voters)} history={len(result.history)} "
        f"seconds={seconds:.1f} rows_per_s={rows / seconds:,.0f}"
    )


if __name__ == "__main__":
    main()
