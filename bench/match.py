"""Benchmark: canvass's supporter matcher against exact and plain fuzzy matching.

Builds a supporter list from a voter file with the errors real lists have, keeps the
truth aside, and scores three matchers on it:

* ``canvass``: :func:`canvass.match.match_supporters` at the configured threshold;
* ``exact``: first name + last name + zip, exactly (a volunteer with a spreadsheet);
* ``fuzzy``: the best rapidfuzz ``WRatio`` of "first last" among the voters of the
  supporter's zip, at 90 or more (a plain fuzzy join).

The list's errors (rates are per row): first names as nicknames from a hand list
independent of the matcher's (Bill, Peggy, Chip...) or by the middle name; typos in
names (transposed, dropped, doubled, keyboard-neighbour and sound-alike letters);
hyphenated or changed (married) surnames; an old address (people move: half within
the zip, half elsewhere); units dropped; birth dates missing, year-only, day/month
swapped or mistyped; e-mail-only rows (name, e-mail and zip); upper/lower case and
abbreviations; the JR or SR of fathers and sons of one name kept on half of their
rows (the voter file has such pairs in 8 % of its households of two or more); and 30 %
of the list not on the file: unregistered household members of voters (same surname
and door; 15 % of them a son named after his father, with JR, when the file has
such pairs), unregistered people in the area, and people from elsewhere.

Usage::

    python bench/match.py --size demo            # the demo town's 5,000 voters
    python bench/match.py --size state           # 4.9 million voters (cached)
    python bench/match.py --size 500000          # any size

Before the last line it prints where the list's rows are lost: per kind of list
error, how many rows end matched, in review with the right voter, below the
threshold, outranked by another voter, scored without person evidence (housemate),
never a candidate (no blocking rule; or a Bayes factor below 1), or matched to the
wrong voter (``bench/_match_report.py``); the false positives by kind of row; how
recall is counted (every row made from a voter, e-mail-only rows included); how
many rows identify their voter at all (a birth date, or a full name unique where
the row points: a bound on any matcher's recall); precision and recall at other
thresholds, and at the one :func:`canvass.match.precision_cut` picks from the
model's own probabilities for an expected precision of 0.99.

Last line: ``match: precision=... recall=... exact_recall=... wall_s=...``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "match"
sys.path.insert(0, str(ROOT / "bench"))

import _match_report as report  # noqa: E402
from _match_baselines import exact_match, fuzzy_match, score  # noqa: E402

# Real nicknames, written down for this bench (not the matcher's nicknames list).
NICKNAMES = {
    "ABIGAIL": ["ABBY", "GAIL"], "BEATRICE": ["BEA", "BEE"], "CAROL": ["CARRIE"],
    "DEBORAH": ["DEBBIE", "DEB"], "DIANA": ["DI"], "ELENA": ["LENA"],
    "JANET": ["JAN"], "JULIA": ["JULIE", "JULES"], "LAURA": ["LAURIE"],
    "MARGARET": ["PEGGY", "MAGGIE", "MEG", "MADGE"], "NANCY": ["NAN"],
    "OLIVIA": ["LIV", "LIVVY"], "SARAH": ["SALLY", "SADIE"], "SOFIA": ["SOPHIE"],
    "TERESA": ["TERRY", "TESS"], "VIOLET": ["VI"], "AARON": ["RON"],
    "ALBERT": ["AL", "BERT"], "BENJAMIN": ["BEN", "BENNY"],
    "CHARLES": ["CHARLIE", "CHUCK", "CHIP"], "DANIEL": ["DAN", "DANNY"],
    "DAVID": ["DAVE"], "EDWARD": ["ED", "TED", "NED"], "FRANCIS": ["FRANK"],
    "HENRY": ["HANK", "HARRY"], "ISAAC": ["IKE"], "JAMES": ["JIM", "JIMMY", "JAMIE"],
    "JOSEPH": ["JOE", "JOEY"], "MATTHEW": ["MATT"], "NATHAN": ["NATE"],
    "PATRICK": ["PAT", "PADDY"], "PETER": ["PETE"], "RAYMOND": ["RAY"],
    "ROBERT": ["BOB", "ROB", "BOBBY"], "SAMUEL": ["SAM"], "THOMAS": ["TOM", "TOMMY"],
    "VICTOR": ["VIC"], "WALTER": ["WALT"], "WILLIAM": ["BILL", "WILL", "BILLY"],
    "ELIZABETH": ["LIZ", "BETH", "BETSY"], "KATHERINE": ["KATE", "KATHY", "KATIE"],
    "JENNIFER": ["JEN", "JENNY"], "MICHAEL": ["MIKE", "MICKEY"],
    "RICHARD": ["RICK", "DICK", "RICH"], "CHRISTOPHER": ["CHRIS"],
    "ANTHONY": ["TONY"], "SUSAN": ["SUE", "SUZY"], "PATRICIA": ["PATTY", "TRISH"],
    "JOHN": ["JACK", "JOHNNY"], "STEPHEN": ["STEVE"], "ANDREW": ["ANDY", "DREW"],
    "REBECCA": ["BECKY"], "ALEXANDER": ["ALEX", "SASHA"], "GEORGE": ["GEORDIE"],
}  # fmt: skip
_KEYBOARD = {
    "A": "SQWZ", "B": "VNGH", "C": "XVDF", "D": "SFER", "E": "WRD", "F": "DGRT",
    "G": "FHTY", "H": "GJYU", "I": "UOK", "J": "HKUI", "K": "JLIO", "L": "KOP",
    "M": "NJK", "N": "BMHJ", "O": "IPL", "P": "OL", "Q": "WA", "R": "ETF",
    "S": "ADWZ", "T": "RYG", "U": "YIJ", "V": "CBF", "W": "QES", "X": "ZCS",
    "Y": "TUH", "Z": "XAS",
}  # fmt: skip
_SOUNDS = (("PH", "F"), ("CK", "K"), ("IE", "Y"), ("EI", "IE"), ("OU", "O"),
           ("SCH", "SH"), ("Y", "I"), ("C", "K"), ("TT", "T"), ("LL", "L"))  # fmt: skip
_SUFFIX_WORDS = {
    "ST": "Street", "RD": "Road", "AVE": "Avenue", "LN": "Lane", "DR": "Drive",
    "CT": "Court", "TER": "Terrace", "WAY": "Way",
}  # fmt: skip


def typo(word: str, rng: np.random.Generator) -> str:
    """One realistic typing or spelling error."""
    if len(word) < 3:
        return word
    kind = rng.integers(6)
    i = int(rng.integers(1, len(word) - 1))
    if kind == 0:  # transposed letters
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:  # dropped letter
        return word[:i] + word[i + 1 :]
    if kind == 2:  # doubled letter
        return word[:i] + word[i] + word[i:]
    if kind == 3:  # keyboard neighbour
        near = _KEYBOARD.get(word[i], word[i])
        return word[:i] + near[int(rng.integers(len(near)))] + word[i + 1 :]
    for a, b in _SOUNDS:  # sound-alike spelling
        if a in word[1:]:
            return word[0] + word[1:].replace(a, b, 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _spell_street(street: str, rng: np.random.Generator) -> str:
    words = street.split()
    if words and words[-1] in _SUFFIX_WORDS and rng.random() < 0.5:
        words[-1] = _SUFFIX_WORDS[words[-1]]
    return " ".join(w.title() if rng.random() < 0.7 else w for w in words)


def make_list(
    voters: pd.DataFrame, n: int, seed: int, off_file: float = 0.3
) -> tuple[pd.DataFrame, pd.Series]:
    """
    Make a supporter list of `n` rows (Action Network-style CSV columns) and the truth.

    Returns
    -------
    rows, truth
        The list; and per row the voter id it was made from ("" = not on the file).
    """
    rng = np.random.default_rng(seed)
    # suffix draws apart, so that the rest of the list stays as without them
    rng_sfx = np.random.default_rng(seed + 1000)
    n_on = min(round(n * (1 - off_file)), int(len(voters) * 0.5))
    n_off = (
        round(n_on * off_file / (1 - off_file))
        if n_on < n * (1 - off_file)
        else n - n_on
    )
    pick = rng.choice(len(voters), size=n_on, replace=False)
    on = voters.iloc[pick]
    addr_pool = voters.iloc[rng.choice(len(voters), size=n_on + n_off)]
    rows: list[dict[str, str]] = []
    truth: list[str] = []
    kinds: list[str] = []
    first_pool = voters["first_name"].to_numpy()
    last_pool = voters["last_name"].to_numpy()
    zips = voters["zip5"].unique()
    homes = zip(
        voters["street_number"].astype(str),
        voters["street_name"].astype(str),
        voters["unit"].fillna("").astype(str),
        voters["zip5"].astype(str),
        strict=True,
    )
    # unregistered sons named after their fathers only where the file has such
    # pairs (a JR at the door of a voter of his name): the demo town has none
    suffixes = voters.get("name_suffix", pd.Series("", index=voters.index))
    juniors = voters[suffixes.fillna("").eq("JR")]
    door_name = ["street_number", "street_name", "zip5", "first_name", "last_name"]
    has_namesakes = bool(
        len(juniors)
        and juniors[door_name]
        .merge(voters.loc[suffixes.fillna("").ne("JR"), door_name], on=door_name)
        .shape[0]
    )
    household: dict[tuple[str, str, str, str], list[str]] = {}
    for home, first_name in zip(homes, voters["first_name"].astype(str), strict=True):
        household.setdefault(home, []).append(first_name)
    for k, (vid, v) in enumerate(on.iterrows()):
        first, last = str(v["first_name"]), str(v["last_name"])
        middle = str(v.get("middle_name", "") or "")
        r = rng.random
        kind: list[str] = []
        if r() < 0.15 and first in NICKNAMES:
            options = NICKNAMES[first]
            first = options[int(rng.integers(len(options)))]
            kind.append("nickname")
        elif r() < 0.02 and middle:
            first = middle  # goes by the middle name
            kind.append("middle_name")
        if r() < 0.04:
            first = typo(first, rng)
            kind.append("first_typo")
        if r() < 0.06:
            last = typo(last, rng)
            kind.append("last_typo")
        if r() < 0.03:
            other = str(last_pool[int(rng.integers(len(last_pool)))])
            last = f"{last}-{other}" if r() < 0.5 else f"{other}-{last}"
            kind.append("hyphenated")
        elif r() < 0.04:
            last = str(last_pool[int(rng.integers(len(last_pool)))])  # married name
            kind.append("changed_surname")
        name_suffix = str(v.get("name_suffix", "") or "")
        if name_suffix and rng_sfx.random() < 0.5:  # the list keeps the JR or SR
            last = f"{last} {name_suffix.title()}"
            kind.append("suffix_kept")
        elif name_suffix:
            kind.append("suffix_dropped")
        suffix = str(v.get("street_number_suffix", "") or "")
        number = f"{v['street_number']} {suffix}".strip()
        street, unit, zip5 = str(v["street_name"]), str(v["unit"] or ""), str(v["zip5"])
        if r() < 0.12:  # an old address: moved since signing up
            old = addr_pool.iloc[k]
            number, street, unit = (
                str(old["street_number"]),
                str(old["street_name"]),
                str(old["unit"] or ""),
            )
            zip5 = zip5 if r() < 0.5 else str(old["zip5"])
            kind.append(
                "moved_within_zip" if zip5 == str(v["zip5"]) else "moved_out_of_zip"
            )
        if unit and r() < 0.5:
            unit = ""
            kind.append("unit_dropped")
        born = v["birth_date"]
        u = r()
        dob = ""
        birth = "no_birth_date"
        if pd.notna(born) and u < 0.25:
            dob = born.strftime("%m/%d/%Y")
            birth = "birth_full"
            if r() < 0.08:  # day and month swapped (a European-style entry)
                dob = born.strftime("%d/%m/%Y") if born.day <= 12 else dob
                birth = "birth_swapped" if born.day <= 12 else birth
            elif r() < 0.06:
                dob = f"{born.month:02d}/{min(born.day + 1, 28):02d}/{born.year}"
                birth = "birth_typo"
        elif pd.notna(born) and u < 0.35:
            dob = str(born.year)
            birth = "birth_year_only"
        email_only = r() < 0.15
        kind.append("email_only" if email_only else birth)
        style = r()
        if style >= 0.7:
            kind.append("case_lower" if style < 0.8 else "case_upper")
        name_case = (
            (lambda s: s.title())
            if style < 0.7
            else (lambda s: s.lower())
            if style < 0.8
            else (lambda s: s)
        )
        rows.append(
            {
                "first_name": name_case(first),
                "last_name": name_case(last),
                "email": f"{first}.{last}{int(rng.integers(100))}@example.org".lower(),
                "zip_code": zip5,
                "can2_user_address": ""
                if email_only
                else f"{number} {_spell_street(street, rng)}"
                + (
                    f" Apt {unit}"
                    if unit and r() < 0.5
                    else f" #{unit}"
                    if unit
                    else ""
                ),
                "can2_user_city": "",
                "dob": "" if email_only else dob,
                "can2_user_tags": "volunteer"
                if r() < 0.1
                else "donor"
                if r() < 0.2
                else "",
            }
        )
        truth.append(str(vid))
        kinds.append(";".join(kind) or "clean")
    for k in range(n_off):
        base = addr_pool.iloc[n_on + k]
        kind = rng.random()
        first = str(first_pool[int(rng.integers(len(first_pool)))])
        last = str(last_pool[int(rng.integers(len(last_pool)))])
        number, street, zip5 = (
            str(base["street_number"]),
            str(base["street_name"]),
            str(base["zip5"]),
        )
        where = "area"
        if kind < 0.4:  # an unregistered household member of a voter
            where = "household"
            last = str(base["last_name"])
            home = (number, street, str(base["unit"] or ""), zip5)
            taken = {f[:3] for f in household.get(home, ())}
            while first[:3] in taken:  # housemates do not share a first name
                first = str(first_pool[int(rng.integers(len(first_pool)))])
            if (
                has_namesakes
                and not base.get("name_suffix", "")
                and rng_sfx.random() < 0.15
            ):
                # ... but for a son named after his father (not registered)
                first, last = str(base["first_name"]), f"{last} Jr"
                where = "household_namesake"
        elif kind > 0.7:  # lives elsewhere
            where = "elsewhere"
            zip5 = f"{int(rng.integers(1000, 99999)):05d}"
            while zip5 in zips:
                zip5 = f"{int(rng.integers(1000, 99999)):05d}"
        year = int(rng.integers(1940, 2005))
        if where == "household_namesake":
            year = min(base["birth_date"].year + int(rng_sfx.integers(20, 36)), 2007)
        dob = (
            f"{int(rng.integers(1, 13)):02d}/{int(rng.integers(1, 29)):02d}/{year}"
            if rng.random() < 0.25
            else ""
        )
        rows.append(
            {
                "first_name": first.title(),
                "last_name": last.title(),
                "email": f"{first.lower()}{int(rng.integers(1000))}@example.net",
                "zip_code": zip5,
                "can2_user_address": f"{number} {_spell_street(street, rng)}",
                "can2_user_city": "",
                "dob": dob,
                "can2_user_tags": "",
            }
        )
        truth.append("")
        kinds.append(f"not_on_file_{where}")
    order = rng.permutation(len(rows))
    frame = pd.DataFrame(rows).iloc[order].reset_index(drop=True)
    truth_s = pd.Series(np.array(truth)[order], name="voter_id")
    truth_s.attrs["kinds"] = list(np.array(kinds)[order])
    return frame, truth_s


def demo_voters() -> pd.DataFrame:
    """The demo town's voter file (made once under bench/out/match/demo)."""
    from canvass.config import PlanConfig
    from canvass.demo import make_demo_town
    from canvass.load import load_voter_file

    root = OUT / "demo"
    if not (root / "canvass.toml").exists():
        make_demo_town(root, seed=7, force=True)
    return load_voter_file(PlanConfig.from_toml(root / "canvass.toml")).voters


_SYLLABLES = (
    "AL", "AN", "AR", "BA", "BE", "BO", "BRA", "CA", "CHE", "CO", "DA", "DE", "DO",
    "EL", "EN", "ER", "FA", "FI", "GA", "GO", "HA", "HO", "IN", "KA", "KO", "LA",
    "LE", "LI", "LO", "MA", "ME", "MI", "MO", "NA", "NE", "NI", "NO", "OR", "PA",
    "PE", "RA", "RE", "RI", "RO", "SA", "SE", "SO", "TA", "TE", "TO", "VA", "VE",
    "WA", "WI", "ZA", "ZE", "SKI", "SON", "MAN", "LEY", "TON", "NER", "ETTI", "OFF",
)  # fmt: skip


def _namesakes(frame: pd.DataFrame, hh: np.ndarray, rng: np.random.Generator) -> None:
    """
    Make fathers and sons of one name in 8 % of the households of two or more.

    The youngest voter of the household, at least 18 years younger than the oldest
    and of the same surname, takes the oldest's first name and the suffix JR; the
    oldest is SR on 40 % of them (most fathers' records carry no suffix).
    """
    starts = np.flatnonzero(np.r_[True, hh[1:] != hh[:-1]])
    ends = np.r_[starts[1:], len(hh)]
    big = (ends - starts) >= 2
    chosen = big & (rng.random(len(starts)) < 0.08)
    born = frame["birth_date"].to_numpy()
    last = frame["last_name"].to_numpy()
    first = frame["first_name"].to_numpy().copy()
    suffix = frame["name_suffix"].to_numpy().copy()
    senior = rng.random(len(starts)) < 0.4
    for k in np.flatnonzero(chosen):
        a, b = int(starts[k]), int(ends[k])
        old = a + int(np.argmin(born[a:b]))
        young = a + int(np.argmax(born[a:b]))
        gap_days = (born[young] - born[old]) / np.timedelta64(1, "D")
        if last[old] != last[young] or gap_days < 18 * 365.25:
            continue
        first[young] = first[old]
        suffix[young] = "JR"
        suffix[old] = "SR" if senior[k] else ""
    frame["first_name"] = first
    frame["name_suffix"] = suffix


def state_voters(n: int) -> pd.DataFrame:
    """`n` synthetic voters in households across ~540 zips (cached as parquet)."""
    cache = OUT / f"voters_v3_{n}.parquet"
    if cache.exists():
        return pd.read_parquet(cache)
    from nicknames import NickNamer

    rng = np.random.default_rng(11)
    formal = sorted({k.upper() for k in NickNamer().nickname_lookup} | set(NICKNAMES))
    formal = [f for f in formal if len(f) > 2]
    f_weight = 1.0 / (np.arange(len(formal)) + 8.0) ** 1.1
    rng.shuffle(f_weight)
    syl = np.array(_SYLLABLES)
    n_sur = 160_000
    parts = rng.integers(len(syl), size=(n_sur, 3))
    three = rng.random(n_sur) < 0.4
    surnames = np.char.add(
        np.char.add(syl[parts[:, 0]], syl[parts[:, 1]]),
        np.where(three, syl[parts[:, 2]], ""),
    )
    surnames = pd.unique(surnames)
    s_weight = 1.0 / (np.arange(len(surnames)) + 20.0) ** 0.95
    # households: 1-5 voters at one address; zips of ~9,000 voters
    sizes = rng.choice(5, size=n, p=[0.33, 0.41, 0.15, 0.08, 0.03]) + 1
    hh = np.repeat(np.arange(n), sizes)[:n]
    n_hh = int(hh[-1]) + 1
    n_zip = max(1, n // 9000)
    hh_zip = rng.integers(n_zip, size=n_hh)
    hh_street = rng.integers(180, size=n_hh)
    hh_number = rng.integers(1, 400, size=n_hh)
    apartment = rng.random(n_hh) < 0.25
    hh_unit = np.where(apartment, rng.integers(1, 30, size=n_hh).astype(str), "")
    hh_last = rng.choice(len(surnames), size=n_hh, p=s_weight / s_weight.sum())
    own_last = rng.random(n) < 0.25
    last_idx = np.where(
        own_last,
        rng.choice(len(surnames), size=n, p=s_weight / s_weight.sum()),
        hh_last[hh],
    )
    fp = f_weight / f_weight.sum()
    first = np.array(formal)[rng.choice(len(formal), size=n, p=fp)]
    middle = np.array(formal)[rng.choice(len(formal), size=n, p=fp)]
    middle = np.where(rng.random(n) < 0.4, "", middle)
    words = syl[rng.integers(len(syl), size=(n_zip * 180, 2))]
    street_words = np.char.add(words[:, 0], words[:, 1])
    suffix = np.array(list(_SUFFIX_WORDS))[
        rng.integers(len(_SUFFIX_WORDS), size=n_zip * 180)
    ]
    streets = np.char.add(np.char.add(street_words, " "), suffix)
    sid = hh_zip[hh] * 180 + hh_street[hh]
    age = rng.gamma(6.0, 8.5, n) + 18.0
    age = np.where(age < 99.0, age, rng.uniform(18.0, 99.0, n))  # no pile-up at 99
    age_days = age * 365.25
    birth = pd.Timestamp("2025-06-30") - pd.to_timedelta(age_days.astype(int), unit="D")
    frame = pd.DataFrame(
        {
            "voter_id": [f"V{i:08d}" for i in range(n)],
            "last_name": surnames[last_idx],
            "first_name": first,
            "middle_name": middle,
            "name_suffix": "",
            "street_number": hh_number[hh].astype(str),
            "street_number_suffix": "",
            "street_name": streets[sid],
            "unit": hh_unit[hh],
            "city": np.char.add("TOWN", (hh_zip[hh] // 2).astype(str)),
            "state": "MA",
            "zip5": np.char.zfill((1000 + hh_zip[hh]).astype(str), 5),
            "birth_date": birth,
        }
    ).set_index("voter_id")
    frame["birth_year"] = frame["birth_date"].dt.year
    _namesakes(frame, hh, np.random.default_rng(13))
    OUT.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(cache)
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="demo", help="demo, state or a number")
    parser.add_argument("--supporters", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-fuzzy", action="store_true")
    parser.add_argument(
        "--dump",
        action="store_true",
        help="write every row's stage and the scored pairs under bench/out/match",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.path.insert(0, str(ROOT))
    from canvass.config import PlanConfig
    from canvass.match import (
        CAPPED_REASONS,
        explain_pairs,
        match_supporters,
        precision_cut,
        read_supporters,
    )

    t0 = time.perf_counter()
    if args.size == "demo":
        voters = demo_voters()
    else:
        voters = state_voters(4_900_000 if args.size == "state" else int(args.size))
    t_voters = time.perf_counter() - t0
    rows, truth = make_list(voters, args.supporters, args.seed)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"supporters_{args.size}.csv"
    rows.to_csv(path, index=False)
    config = PlanConfig.from_dict(
        {"seed": args.seed, "supporters": {"files": [str(path)]}, "base_dir": str(OUT)}
    )
    start = time.perf_counter()
    read = read_supporters(config)
    result = match_supporters(read, voters, config, threads=args.threads)
    wall = time.perf_counter() - start
    dec = result.decisions
    by_line = dec[dec["source"].eq(path.name)].set_index("line")
    lines = pd.Series(np.arange(2, len(rows) + 2))
    status = lines.map(by_line["status"]).fillna("unmatched")
    voter = lines.map(by_line["voter_id"]).fillna("")
    predicted = voter.where(status.eq("matched"), "")
    precision, recall, made = score(predicted.reset_index(drop=True), truth)
    review = status.eq("review")
    review_true = (review & voter.eq(truth.to_numpy())).sum()
    ex_p, ex_r, _ = score(exact_match(rows, voters), truth)
    # precision and recall at other thresholds, and at the one the model picks
    # for an expected precision of 0.99 (rows capped at review never match)
    best_p = lines.map(by_line["match_probability"]).fillna(0.0)
    reason = lines.map(by_line["reason"]).fillna("")
    ok = status.isin(["matched", "review"]) & ~reason.isin(CAPPED_REASONS)
    picked = precision_cut(
        dec[dec["source"].eq(path.name)], 0.99, config.supporters.review_probability
    )
    sweep = report.sweep(truth, voter, ok, best_p, picked)
    kinds = pd.Series(truth.attrs["kinds"])
    mine = dec[dec["source"].eq(path.name)]
    keys = lines.map(pd.Series(mine.index.astype(str), index=mine["line"].to_numpy()))
    keys = keys.fillna("").astype(str).reset_index(drop=True)
    status_r, voter_r = status.reset_index(drop=True), voter.reset_index(drop=True)
    stage = report.stages(truth, keys, status_r, voter_r, result.pairs, None)
    lost = stage.eq("not_blocked")
    if lost.any():  # blocked out, or scored below a Bayes factor of 1?
        explained = explain_pairs(
            read,
            voters,
            pd.DataFrame({"supporter_key": keys[lost], "voter_id": truth[lost]}),
        )
        stage = report.stages(truth, keys, status_r, voter_r, result.pairs, explained)
    breakdown = report.breakdown(kinds, stage)
    got = stage.eq("matched")
    recall_note = report.recall_counted(kinds, truth, voters, got)
    birth_given = rows["dob"].fillna("").astype(str).ne("").reset_index(drop=True)
    ident = report.identifying(kinds, truth, birth_given, voters)
    bound = report.ceiling(ident, truth, got)
    capped = reason.isin(CAPPED_REASONS).reset_index(drop=True)
    calib = report.calibration(truth.reset_index(drop=True), keys, result.pairs, capped)
    if args.dump:  # per row: its error kinds, stage and whether it identifies
        pd.DataFrame(
            {"kinds": kinds, "truth": truth.reset_index(drop=True), "key": keys}
        ).assign(stage=stage, identifying=ident, birth_given=birth_given).to_parquet(
            OUT / f"rows_{args.size}.parquet"
        )
        result.pairs.to_parquet(OUT / f"pairs_{args.size}.parquet")
    result_doc = {
        "voters": len(voters),
        "supporters": len(rows),
        "on_file": int(truth.ne("").sum()),
        "canvass": {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "matched": made,
            "review": int(review.sum()),
            "review_correct_candidate": int(review_true),
        },
        "exact": {"precision": round(ex_p, 4), "recall": round(ex_r, 4)},
        "threshold_sweep": sweep,
        "recall_counted": recall_note,
        "identifying_rows": bound,
        "calibration": calib,
        "breakdown": breakdown,
        "report": result.report,
        "voter_file_s": round(t_voters, 1),
    }
    if not args.no_fuzzy:
        fz_p, fz_r, _ = score(fuzzy_match(rows, voters), truth)
        result_doc["fuzzy"] = {"precision": round(fz_p, 4), "recall": round(fz_r, 4)}
    (OUT / f"result_{args.size}.json").write_text(
        json.dumps(result_doc, indent=1, default=str)
    )
    print(json.dumps({k: v for k, v in result_doc.items() if k != "report"}, indent=1))
    print(report.table(breakdown))
    print(report.notes(recall_note, bound, calib, sweep["expected_precision_0.99"]))
    print(f"threads={args.threads} cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f}")
    print(
        f"match: precision={precision:.4f} recall={recall:.4f} "
        f"exact_recall={ex_r:.4f} wall_s={wall:.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
