"""Stage 8, outputs: walk lists, PDFs, GPX, route pages, the turf map, the run folder.

:func:`write_plan` writes a whole run folder atomically; the writers of each kind of
file are public for callers who want one of them.
"""

from __future__ import annotations

from ._assigned import rewrite_route_outputs, with_volunteer_names
from ._folder import input_files, manifest, recover_interrupted, write_plan
from ._gpx import write_route_gpx
from ._links import (
    LINK_SHEET,
    SECRETS_FILE,
    route_ids,
    route_secrets,
    served_link,
    write_link_sheet,
)
from ._maps import director_map, write_director_map
from ._pages import route_page_data, write_index, write_route_pages
from ._pdf import write_route_pdf
from ._progress import progress_map, write_progress
from ._snapshot import PLAN_FOLDER, read_plan_data, write_plan_data
from ._table import CSV_COLUMNS, RESULT_CODES, block_table, safe_name, walk_list_table
from ._templates import TEMPLATE_COLUMNS, write_results_templates
from ._walklists import write_walk_lists

__all__ = [
    "CSV_COLUMNS",
    "LINK_SHEET",
    "PLAN_FOLDER",
    "RESULT_CODES",
    "SECRETS_FILE",
    "TEMPLATE_COLUMNS",
    "block_table",
    "director_map",
    "input_files",
    "manifest",
    "progress_map",
    "read_plan_data",
    "recover_interrupted",
    "rewrite_route_outputs",
    "route_ids",
    "route_page_data",
    "route_secrets",
    "safe_name",
    "served_link",
    "walk_list_table",
    "with_volunteer_names",
    "write_director_map",
    "write_index",
    "write_link_sheet",
    "write_plan",
    "write_plan_data",
    "write_progress",
    "write_results_templates",
    "write_route_gpx",
    "write_route_pages",
    "write_route_pdf",
    "write_walk_lists",
]
