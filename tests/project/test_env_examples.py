"""The .env.example files document every setting of their deployable."""

from pathlib import Path

from api.settings import CentralSettings
from edge_agent.settings import EdgeSettings

ROOT = Path(__file__).resolve().parents[2]


def documented(path: Path) -> set[str]:
    """Variable names mentioned in an example file (set or commented out)."""
    names = set()
    for line in path.read_text().splitlines():
        line = line.lstrip("# ").strip()
        if "=" in line and line.split("=", 1)[0].isupper():
            names.add(line.split("=", 1)[0])
    return names


def test_central_example_lists_every_setting():
    missing = {f.upper() for f in CentralSettings.model_fields} - documented(ROOT / ".env.example")
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_central_example_lists_every_alert_setting():
    from api.alerts.settings import AlertSettings

    missing = {"ALERT_" + f.upper() for f in AlertSettings.model_fields} - documented(ROOT / ".env.example")
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_edge_example_lists_every_setting():
    missing = {f.upper() for f in EdgeSettings.model_fields} - documented(ROOT / "edge_agent/.env.example")
    assert not missing, f"edge_agent/.env.example lacks {sorted(missing)}"
