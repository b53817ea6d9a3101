"""US name frequencies for the demo town's people (private).

The demo town's first names and surnames are drawn from the US Census Bureau's 1990
name frequency files (``dist.male.first``, ``dist.female.first``, ``dist.all.last``)
as the PyPI package ``names`` ships them. Each line of those files holds a name, its
frequency in percent, the cumulative frequency in percent and a rank; a name is drawn
by inverting the cumulative frequency, so common names (SMITH, JAMES, MARY) come up as
often as in the 1990 population and the long tail of rare names is there too. The
files are upper case, as a clerk's voter file is, and their names carry no
apostrophes or spaces (O'BRIEN is OBRIEN).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from ..errors import ConfigError

__all__ = ["CENSUS_FILES", "NameList", "census_names"]

#: The census files in the ``names`` package, by what they list.
CENSUS_FILES = {
    "male": "dist.male.first",
    "female": "dist.female.first",
    "last": "dist.all.last",
}


@dataclass(frozen=True)
class NameList:
    """Names in file order with their cumulative frequency (percent, non-decreasing)."""

    names: np.ndarray
    cumulative: np.ndarray

    def draw(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        """
        Draw names with the frequencies of the list.

        Parameters
        ----------
        rng
            Random generator the draws come from.
        size
            Shape of the result.

        Returns
        -------
        numpy.ndarray
            Names (str), each drawn independently.
        """
        u = rng.random(size) * float(self.cumulative[-1])
        idx = np.searchsorted(self.cumulative, u, side="right")
        return np.asarray(self.names[np.minimum(idx, self.names.size - 1)])


def _parse(text: str, source: str) -> NameList:
    names: list[str] = []
    cumulative: list[float] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            if len(fields) != 4:
                raise ValueError
            cum = float(fields[2])
        except ValueError:
            msg = (
                f"{source} line {lineno}: expected 'NAME FREQ CUMULATIVE RANK'; "
                "reinstall the 'names' package (pip install --force-reinstall names)"
            )
            raise ConfigError(msg) from None
        if cumulative and cum < cumulative[-1]:
            msg = (
                f"{source} line {lineno}: cumulative frequency goes down; "
                "reinstall the 'names' package (pip install --force-reinstall names)"
            )
            raise ConfigError(msg)
        names.append(fields[0].upper())
        cumulative.append(cum)
    if not names or cumulative[-1] <= 0.0:
        msg = f"{source} lists no names; reinstall the 'names' package"
        raise ConfigError(msg)
    return NameList(np.array(names), np.array(cumulative, dtype=np.float64))


@cache
def census_names(kind: str) -> NameList:
    """
    Return one of the 1990 census name lists shipped by the ``names`` package.

    Parameters
    ----------
    kind
        ``"male"`` or ``"female"`` (first names) or ``"last"`` (surnames).

    Returns
    -------
    NameList
        The list's names (upper case) and cumulative frequencies.

    Raises
    ------
    ConfigError
        When the ``names`` package is missing or its file cannot be read.
    """
    filename = CENSUS_FILES[kind]
    try:
        text = resources.files("names").joinpath(filename).read_text(encoding="ascii")
    except (ModuleNotFoundError, FileNotFoundError, UnicodeDecodeError) as exc:
        msg = (
            f"the demo town's names come from the 'names' package's {filename}, which "
            f"could not be read ({type(exc).__name__}); install it: pip install names"
        )
        raise ConfigError(msg) from None
    return _parse(text, f"names/{filename}")
