"""`meterit site create|list|rotate-key`: manage sites and their API keys."""

from db.sites import create_site, list_sites, rotate_site_key
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
    rotate = actions.add_parser("rotate-key", help="replace a site's API key (the old one stops working)")
    rotate.add_argument("site_id", type=int)
    add_database_option(rotate)
    rotate.set_defaults(handler=_rotate)


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
    new_site = run_in_session(database_url(args), lambda s: rotate_site_key(s, args.site_id))
    _print_key(new_site, False)
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
        print(f"{site.id:>5}  {site.name:<30} {site.status:<9} last heartbeat {heartbeat}{active}")
    return 0
