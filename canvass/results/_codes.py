"""Result codes as they come back from the doors, and what each means for planning.

The codes themselves are :data:`canvass.outputs.RESULT_CODES` (the boxes on the
walk lists); this module only reads them: it accepts a code, its short mark or its
label on import, maps VAN's result names both ways, and says which results finish a
voter (or a whole door) for the rest of the campaign.
"""

from __future__ import annotations

import re
from typing import Final

from ..outputs import RESULT_CODES

__all__ = [
    "CODES",
    "DONE",
    "DOOR_DONE",
    "VAN_NAMES",
    "normalise_answer",
    "parse_result",
]

#: The canonical codes, in walk-list order.
CODES: Final = tuple(code for code, _, _ in RESULT_CODES)
#: Results after which a voter is not knocked again this campaign.
DONE: Final = frozenset(
    {"CONTACTED", "REFUSED", "MOVED", "DECEASED", "DO_NOT_KNOCK", "INACCESSIBLE"}
)
#: Results that finish the whole door, not only the voter they were recorded for
#: (a gated building, a household that asked not to be knocked).
DOOR_DONE: Final = frozenset({"DO_NOT_KNOCK", "INACCESSIBLE"})
#: Code -> VAN canvass-result name (the names VAN committees use; DOMAIN.md §4.2).
VAN_NAMES: Final = {
    "NOT_HOME": "Not Home",
    "CONTACTED": "Canvassed",
    "REFUSED": "Refused",
    "MOVED": "Moved",
    "DECEASED": "Deceased",
    "INACCESSIBLE": "Inaccessible",
    "LANGUAGE_BARRIER": "Language Barrier",
    "COME_BACK": "Come Back",
    "DO_NOT_KNOCK": "Do Not Walk",
}
if set(DONE) - set(CODES) or set(VAN_NAMES) != set(CODES):  # pragma: no cover
    msg = "results: DONE and VAN_NAMES must use the codes of outputs.RESULT_CODES"
    raise RuntimeError(msg)

_SPACE = re.compile(r"[\s_\-]+")


def _key(text: str) -> str:
    return _SPACE.sub(" ", text.strip().upper())


_LOOKUP: Final = {
    **{_key(code): code for code, _, _ in RESULT_CODES},
    **{_key(mark): code for code, mark, _ in RESULT_CODES},
    **{_key(label): code for code, _, label in RESULT_CODES},
    **{_key(name): code for code, name in VAN_NAMES.items()},
    # other names VAN committees use for the same results
    "DO NOT KNOCK": "DO_NOT_KNOCK",
    "HOSTILE": "DO_NOT_KNOCK",
    "NOT INTERESTED": "REFUSED",
    "CALL BACK": "COME_BACK",
    "SPANISH": "LANGUAGE_BARRIER",
    "OTHER LANGUAGE": "LANGUAGE_BARRIER",
}


def parse_result(text: str) -> str | None:
    """
    Return the canonical code for a result as written, or None when unknown.

    Accepts the code (``NOT_HOME``), its mark on the walk list (``NH``), its label
    (``Not home``) and VAN's result names (``Not Home``, ``Canvassed``), ignoring
    case, spaces, ``_`` and ``-``.
    """
    return _LOOKUP.get(_key(text))


def normalise_answer(text: str, allowed: tuple[str, ...]) -> str | None:
    """Return the allowed answer `text` stands for (ignoring case), else None."""
    wanted = text.strip().upper()
    for answer in allowed:
        if answer.strip().upper() == wanted:
            return answer
    return None
