"""``canvass serve``: the run's route pages on this laptop, results straight back."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

import click

from ._base import _CONFIG_REQUIRED, _load_config, cli

DEFAULT_PORT = 8642


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@cli.command("serve")
@_CONFIG_REQUIRED
@click.option(
    "--run",
    "run_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="The run folder to serve [default: maps/<run_name>].",
)
@click.option(
    "--host",
    default="",
    help="Address to listen on: a local-network address of this machine "
    "[default: the host of campaign.serve_url, else this machine's local-network "
    "address]. 0.0.0.0 listens on every interface (only behind a firewall).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help=f"Port [default: the port of campaign.serve_url, else {DEFAULT_PORT}].",
)
def serve_cmd(
    config_path: Path, run_dir: Path | None, host: str, port: int | None
) -> None:
    """Serve a run's route pages to the volunteers' phones on the local network.

    Each route's link carries a secret key; a page opened from it sends its
    results to this laptop, into the campaign database (as `canvass results
    import` would). Writes serve_links.html (links and QR codes) in the run
    folder. Ctrl-C stops. docs/results.md.
    """
    from .. import outputs, results

    config = _load_config(config_path)
    run_dir = run_dir or Path("maps") / config.run_name
    keys = outputs.route_secrets(run_dir, outputs.route_ids(run_dir))
    url = urlsplit(config.campaign.serve_url) if config.campaign.serve_url else None
    url_host = url.hostname or "" if url else ""
    host = host or (url_host if _is_ip(url_host) else "") or results.local_address()
    if port is None:
        port = (url.port or 80) if url else DEFAULT_PORT
    server = results.make_server(run_dir, config, keys, host, port)
    bound = int(server.server_address[1])
    shown = (
        host
        if not ipaddress.ip_address(host).is_unspecified
        else (results.local_address())
    )
    shown = f"[{shown}]" if ":" in shown else shown
    base = f"http://{shown}:{bound}/"
    moved = url is not None and (
        (_is_ip(url_host) and url_host != shown) or (url.port or 80) != bound
    )
    if moved:
        click.echo(
            f"Note: the walk lists' QR codes open {config.campaign.serve_url}, but "
            f"this server is at {base}; use {outputs.LINK_SHEET} or the links below.",
            err=True,
        )
    links = {r: outputs.served_link(base, r, k) for r, k in keys.items()}
    sheet = outputs.write_link_sheet(run_dir, links)
    for route_id, link in sorted(links.items()):
        click.echo(f"{route_id}\t{link}")
    click.echo(f"Links and QR codes: {sheet}")
    click.echo(f"Serving {run_dir} at {base} (Ctrl-C stops)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
