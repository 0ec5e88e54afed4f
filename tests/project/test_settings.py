"""Settings read the original design's variable names and refuse default secrets outside development."""

import pytest
from pydantic import ValidationError

from api.settings import CentralSettings
from edge_agent.settings import EdgeSettings


def test_central_defaults_to_embedded_sqlite(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert CentralSettings().db_url.startswith("sqlite+aiosqlite:///")


def test_central_builds_postgres_url_from_design_variables(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POSTGRES_HOST", "127.0.0.1")
    monkeypatch.setenv("POSTGRES_DB", "meterit_client")
    monkeypatch.setenv("POSTGRES_PASSWORD", "p@ss/word")
    assert (
        CentralSettings().db_url
        == "postgresql+asyncpg://postgres:p%40ss%2Fword@127.0.0.1:5432/meterit_client"
    )
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/d")
    assert CentralSettings().db_url == "postgresql+asyncpg://u@h/d"


def test_production_refuses_default_jwt_secret(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        CentralSettings()
    monkeypatch.setenv("JWT_SECRET", "x" * 40)
    assert CentralSettings().environment == "production"


def test_edge_reads_design_variables(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYNC_INTERVAL_MINUTES", "0.5")
    monkeypatch.setenv("BATCH_SIZE", "500")
    monkeypatch.setenv("COLLECTION_INTERVAL_SECONDS", "10")
    settings = EdgeSettings()
    assert settings.sync_interval == 30 and settings.batch_size == 500
    assert settings.bacnet_interface.startswith("127.") and settings.bacnet_broadcast_address.startswith(
        "127."
    )


def test_edge_production_needs_key_and_https(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="CLIENT_API_KEY"):
        EdgeSettings()
    monkeypatch.setenv("CLIENT_API_KEY", "mk_x")
    with pytest.raises(ValidationError, match="https"):
        EdgeSettings()


def test_development_placeholder_secret_becomes_a_stored_random_one(tmp_path):
    import warnings

    import jwt

    from api.settings import DEFAULT_SECRET, CentralSettings

    path = tmp_path / "secrets" / "jwt-secret"
    first = CentralSettings(_env_file=None, jwt_secret_file=str(path))
    again = CentralSettings(_env_file=None, jwt_secret_file=str(path))  # another worker, or a restart
    assert first.jwt_secret == again.jwt_secret != DEFAULT_SECRET and len(first.jwt_secret) == 64
    assert path.stat().st_mode & 0o777 == 0o600
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # InsecureKeyLengthWarning would raise here
        token = jwt.encode({"sub": "1"}, first.jwt_secret, algorithm="HS256")
        assert jwt.decode(token, again.jwt_secret, algorithms=["HS256"]) == {"sub": "1"}
    assert CentralSettings(_env_file=None, jwt_secret="y" * 40).jwt_secret == "y" * 40
