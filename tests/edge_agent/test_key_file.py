"""The edge's site key read from a file (CLIENT_API_KEY_FILE, $CREDENTIALS_DIRECTORY) and production's refusals."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from edge_agent.settings import EdgeSettings
from tests.support.central_server import REPO_ROOT

KEY = "mk_abcdef12_" + "k" * 43
PRODUCTION = {"ENVIRONMENT": "production", "CLIENT_API_URL": "https://central.example.test/graphql"}


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No key settings from the caller's environment, and a working directory without .env."""
    for name in ("CLIENT_API_KEY", "CLIENT_API_KEY_FILE", "CREDENTIALS_DIRECTORY", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def key_file(path, mode=0o600, text=KEY + "\n"):
    path.write_text(text)
    path.chmod(mode)
    return path


def test_key_read_from_file(clean_env, tmp_path):
    path = key_file(tmp_path / "key")
    clean_env.setenv("CLIENT_API_KEY_FILE", str(path))
    assert EdgeSettings().client_api_key == KEY


def test_key_from_systemd_credentials_directory(clean_env, tmp_path):
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    key_file(credentials / "client_api_key", 0o400)
    clean_env.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    for name, value in PRODUCTION.items():
        clean_env.setenv(name, value)
    assert EdgeSettings().client_api_key == KEY  # the default credential name
    key_file(credentials / "site-key", 0o400, "  " + KEY.replace("k", "q") + "  \n")
    clean_env.setenv("CLIENT_API_KEY_FILE", "site-key")  # a bare name lies in the credentials directory
    assert EdgeSettings().client_api_key == KEY.replace("k", "q")


@pytest.mark.parametrize(
    ("text", "needle"), [("", "key alone on one line"), (f"{KEY}\n{KEY}\n", "key alone on one line")]
)
def test_unusable_key_file_is_a_clear_error(clean_env, tmp_path, text, needle):
    clean_env.setenv("CLIENT_API_KEY_FILE", str(key_file(tmp_path / "key", text=text)))
    with pytest.raises(ValidationError, match=needle):
        EdgeSettings()


def test_missing_key_file_and_both_settings_are_errors(clean_env, tmp_path):
    clean_env.setenv("CLIENT_API_KEY_FILE", str(tmp_path / "absent"))
    with pytest.raises(ValidationError, match=f"cannot read the site key file {tmp_path / 'absent'}"):
        EdgeSettings()
    clean_env.setenv("CLIENT_API_KEY_FILE", str(key_file(tmp_path / "key")))
    clean_env.setenv("CLIENT_API_KEY", KEY)
    with pytest.raises(ValidationError, match="not both"):
        EdgeSettings()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_production_refuses_a_key_file_others_may_read(clean_env, tmp_path, mode):
    path = key_file(tmp_path / "key", mode)
    for name, value in {**PRODUCTION, "CLIENT_API_KEY_FILE": str(path)}.items():
        clean_env.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        EdgeSettings()
    message = str(caught.value)
    assert str(path) in message and f"mode {mode:04o}" in message and f"chmod 600 {path}" in message
    clean_env.setenv("ENVIRONMENT", "development")
    assert EdgeSettings().client_api_key == KEY  # development only reads it
    path.chmod(0o600)
    clean_env.setenv("ENVIRONMENT", "production")
    assert EdgeSettings().client_api_key == KEY


def test_production_refuses_a_dotenv_holding_the_key_that_others_may_read(clean_env, tmp_path):
    for name, value in PRODUCTION.items():
        clean_env.setenv(name, value)
    env_file = key_file(tmp_path / ".env", 0o644, f"CLIENT_API_KEY={KEY}\n")
    with pytest.raises(ValidationError, match=rf"\.env file holding CLIENT_API_KEY {env_file} has mode 0644"):
        EdgeSettings()
    env_file.chmod(0o600)
    assert EdgeSettings().client_api_key == KEY
    env_file.chmod(0o644)
    clean_env.setenv("CLIENT_API_KEY", KEY)  # given by the service manager: the .env is not the key's holder
    assert EdgeSettings().client_api_key == KEY


def test_edge_agent_refuses_to_start_with_a_world_readable_key_file(tmp_path):
    path = key_file(tmp_path / "client_api_key", 0o644)
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO_ROOT),
        **PRODUCTION,
        "CLIENT_API_KEY_FILE": str(path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "meterit.cli", "edge", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert f"chmod 600 {path}" in result.stderr and "Traceback" not in result.stderr
