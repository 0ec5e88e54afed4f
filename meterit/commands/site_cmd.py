"""`meterit site create|list|rotate-key|allow-networks`: manage sites, their API keys and allowed networks."""

from db.central.networks import split_networks
from db.central.sites import create_site, list_sites, rotate_site_key, set_allowed_networks
from meterit.cli import CliError
from meterit.commands.common import add_database_option, database_url, run_in_session


def register(subparsers) -> None:
    """Add the `site` command."""
    parser = subparsers.add_parser("site", help="create and list sites (buildings with an edge agent)")
    actions = parser.add_subparsers(dest="site_action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a site and print its API key once")
    create.add_argument("name")
    create.add_argument("--timezone", default="UTC", help="the site's IANA time zone, e.g. Europe/Berlin")
    create.add_argument("--key-only", action="store_true", help="print only the key (for scripts)")
    add_database_option(create)
    create.set_defaults(handler=_create)
    listing = actions.add_parser("list", help="list sites with status and last heartbeat")
    add_database_option(listing)
    listing.set_defaults(handler=_list)
    rotate = actions.add_parser(
        "rotate-key",
        help="replace a site's API key; the old one works on until --overlap-hours pass or the edge uses the new one",
    )
    rotate.add_argument("site_id", type=int)
    rotate.add_argument(
        "--overlap-hours",
        type=float,
        help="how long the old key stays valid (default KEY_ROTATION_OVERLAP_HOURS, 24)",
    )
    add_database_option(rotate)
    rotate.set_defaults(handler=_rotate)
    allow = actions.add_parser(
        "allow-networks",
        help="accept a site's key only from these networks (CIDR, IPv4/IPv6); --any to accept any address",
    )
    allow.add_argument("site_id", type=int)
    allow.add_argument("networks", nargs="*", metavar="CIDR", help="e.g. 192.0.2.0/24 2001:db8::/32")
    allow.add_argument("--any", action="store_true", help="remove the list: the key works from any address")
    add_database_option(allow)
    allow.set_defaults(handler=_allow_networks)


def _validate_timezone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone {name!r}") from err
    return name


def _print_key(new_site, key_only: bool) -> None:
    if key_only:
        print(new_site.api_key)
        return
    print(f"site {new_site.site.id}: {new_site.site.name}")
    print(f"API key (shown once, store it in the edge's .env as CLIENT_API_KEY): {new_site.api_key}")


def _create(args) -> int:
    timezone = _validate_timezone(args.timezone)
    new_site = run_in_session(database_url(args), lambda s: create_site(s, args.name, timezone))
    _print_key(new_site, args.key_only)
    return 0


def _rotate(args) -> int:
    hours = args.overlap_hours
    if hours is None:
        from api.settings import CentralSettings

        hours = CentralSettings().key_rotation_overlap_hours
    if not 0 <= hours <= 24 * 30:
        raise CliError("--overlap-hours must be 0 to 720")
    new_site = run_in_session(database_url(args), lambda s: rotate_site_key(s, args.site_id, hours * 3600))
    _print_key(new_site, False)
    if hours:
        print(f"the old key works until the edge first uses this one, at most {hours:g} h")
    return 0


def _allow_networks(args) -> int:
    networks = [n for value in args.networks for n in split_networks(value)]
    if bool(networks) == bool(args.any):
        raise ValueError("give either the networks (CIDR) or --any")
    site = run_in_session(database_url(args), lambda s: set_allowed_networks(s, args.site_id, networks))
    allowed = ", ".join(site.allowed_networks) or "any address"
    print(f"site {site.id} ({site.name}): key accepted from {allowed}")
    return 0


def _list(args) -> int:
    sites = run_in_session(database_url(args), list_sites)
    if not sites:
        print("no sites yet: meterit site create NAME")
    for site in sites:
        heartbeat = (
            site.last_heartbeat_at.isoformat(timespec="seconds") if site.last_heartbeat_at else "never"
        )
        active = "" if site.is_active else " (inactive)"
        networks = f" from {', '.join(site.allowed_networks)}" if site.allowed_networks else ""
        print(f"{site.id:>5}  {site.name:<30} {site.status:<9} last heartbeat {heartbeat}{active}{networks}")
    return 0
