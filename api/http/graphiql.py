"""GraphiQL that works offline (its unpkg.com URLs point at copies vendored in api/static/graphiql), with a
"log in" bar that puts a session token into the Headers editor, and a first query that says how to begin.

The copies are the exact npm files (react 18.2.0, react-dom 18.2.0, js-cookie 3.0.5, graphiql 3.8.3,
@graphiql/plugin-explorer 1.0.2), so the page's subresource-integrity hashes still match.
"""

from pathlib import Path

STATIC_DIR = Path(__file__).parents[1] / "static"
STATIC_PREFIX = "/static/graphiql/"
CDN_PREFIX = "https://unpkg.com/"


WELCOME = """# MeterIT central GraphQL
#
# Dashboard queries need a session token:
# 1. log in with the bar above the editor; it puts
#    {"Authorization": "Bearer <token>"} into Headers
#    (by hand: run the login mutation below and
#    paste its token into Headers the same way);
#    in the demo, use the login its banner prints;
# 2. run this query (Ctrl-Enter).
# Edge operations send the header X-API-Key instead.
#
#   mutation { login(email: "you@example.com",
#     password: "...") { ... on LoginSuccess { token } } }
{
  fleet(first: 5, sort: STATUS) {
    total
    counts { online degraded offline maintenance }
    items { site { name status ageSeconds stale } }
  }
}
"""

# Plain DOM and fetch: the bar must work before (and whatever) React renders.
LOGIN_BAR = """
<form id="meterit-login" style="display:flex;gap:.5em;align-items:center;padding:.4em .8em;
  font:14px system-ui,sans-serif;border-bottom:1px solid #ddd;background:#f6f8fa">
  <strong>MeterIT</strong><span>log in to send your token with every query:</span>
  <input id="meterit-email" type="email" placeholder="Email" autocomplete="username" required>
  <input id="meterit-password" type="password" placeholder="Password" autocomplete="current-password" required>
  <button type="submit">Log in</button><span id="meterit-login-status" role="status"></span>
</form>
<style>#graphiql{height:calc(100vh - 2.6em)!important}</style>
<script>
document.getElementById("meterit-login").addEventListener("submit", async function (event) {
  event.preventDefault();
  const status = document.getElementById("meterit-login-status");
  status.textContent = "logging in…";
  const query = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename " +
    "... on LoginSuccess { token } ... on LoginFailed { reason } } }";
  const variables = {e: document.getElementById("meterit-email").value,
                     p: document.getElementById("meterit-password").value};
  try {
    const response = await fetch(window.location.pathname, {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({query, variables})});
    const body = await response.json();
    const login = body.data && body.data.login;
    if (!login || !login.token) {
      status.textContent = (login && login.reason) || (body.errors && body.errors[0].message) || "login failed";
      return;
    }
    // GraphiQL's page reads its parameters with decodeURIComponent (no "+" for spaces): encode the same way.
    const kept = window.location.search.slice(1).split("&").filter(p => p && !p.startsWith("headers="));
    const headers = JSON.stringify({Authorization: "Bearer " + login.token}, null, 2);
    window.location.search = [...kept, "headers=" + encodeURIComponent(headers)].join("&");
  } catch (err) {
    status.textContent = "login failed: " + err;
  }
});
if (/(^|[?&])headers=/.test(window.location.search)) {
  document.getElementById("meterit-login-status").textContent = "token in the Headers tab ✓";
}
</script>
"""


def offline_graphiql_html(html: str) -> str:
    """The IDE page with every CDN URL rewritten to this server's static files, the login bar and our welcome."""
    page = html.replace(CDN_PREFIX, STATIC_PREFIX)
    start = page.find("const EXAMPLE_QUERY = `")
    end = page.find("`;", start)
    if start >= 0 and end > start:
        page = page[:start] + "const EXAMPLE_QUERY = `" + WELCOME + page[end:]
    return page.replace("<body>", "<body>" + LOGIN_BAR, 1)


def missing_assets(html: str) -> list[str]:
    """Vendored files the page refers to but that are not on disk (empty when complete)."""
    missing = []
    for part in offline_graphiql_html(html).split(STATIC_PREFIX)[1:]:
        relative = part.split('"', 1)[0]
        if not (STATIC_DIR / "graphiql" / relative).is_file():
            missing.append(relative)
    return missing
