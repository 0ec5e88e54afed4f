"""GraphiQL that works offline: the page's unpkg.com URLs point at copies vendored in api/static/graphiql.

The copies are the exact npm files (react 18.2.0, react-dom 18.2.0, js-cookie 3.0.5, graphiql 3.8.3,
@graphiql/plugin-explorer 1.0.2), so the page's subresource-integrity hashes still match.
"""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static/graphiql/"
CDN_PREFIX = "https://unpkg.com/"


def offline_graphiql_html(html: str) -> str:
    """The IDE page with every CDN URL rewritten to this server's static files."""
    return html.replace(CDN_PREFIX, STATIC_PREFIX)


def missing_assets(html: str) -> list[str]:
    """Vendored files the page refers to but that are not on disk (empty when complete)."""
    missing = []
    for part in offline_graphiql_html(html).split(STATIC_PREFIX)[1:]:
        relative = part.split('"', 1)[0]
        if not (STATIC_DIR / "graphiql" / relative).is_file():
            missing.append(relative)
    return missing
