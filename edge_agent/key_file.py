"""The site key read from a file (CLIENT_API_KEY_FILE, e.g. a systemd credential), and who may read it."""

import logging
import os
import stat
from pathlib import Path

CREDENTIALS_ENV = "CREDENTIALS_DIRECTORY"
DEFAULT_CREDENTIAL = "client_api_key"
logger = logging.getLogger(__name__)


def key_file_path(setting: str | None, environ: dict[str, str] | None = None) -> Path | None:
    """The key file to read: CLIENT_API_KEY_FILE (a relative name lies in $CREDENTIALS_DIRECTORY when set),
    else the credential `client_api_key` when systemd passed one, else None."""
    environ = os.environ if environ is None else environ
    credentials = environ.get(CREDENTIALS_ENV)
    if setting:
        path = Path(setting).expanduser()
        return Path(credentials) / path if credentials and not path.is_absolute() else path
    if credentials and (Path(credentials) / DEFAULT_CREDENTIAL).is_file():
        return Path(credentials) / DEFAULT_CREDENTIAL
    return None


def read_key(path: Path) -> str:
    """The key in path (surrounding whitespace and a trailing newline dropped); ValueError saying what is wrong."""
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError as err:
        raise ValueError(f"cannot read the site key file {path}: {err.strerror or err}") from err
    if not key or "\n" in key:
        raise ValueError(f"the site key file {path} must hold the key alone on one line")
    return key


def refuse_shared(path: Path, what: str) -> None:
    """ValueError when group or others may access path, naming the file and the mode to set."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as err:
        raise ValueError(f"cannot inspect {what} {path}: {err.strerror or err}") from err
    if mode & 0o077:
        raise ValueError(
            f"{what} {path} has mode {mode:04o}: group and others must not read the site key in "
            f"production; run `chmod 600 {path}` (owner only)"
        )


def holds_key(env_file: Path) -> bool:
    """True when a .env file sets CLIENT_API_KEY."""
    try:
        lines = env_file.read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    return any(line.strip().removeprefix("export ").lstrip().startswith("CLIENT_API_KEY=") for line in lines)


class KeyWatch:
    """The site key of the settings, re-read from CLIENT_API_KEY_FILE whenever the file changes (a rotation)."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.path = key_file_path(settings.client_api_key_file)
        self._stamp = self._stat()

    def _stat(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            found = self.path.stat()
        except OSError:
            return None
        return found.st_mtime_ns, found.st_size

    def current(self) -> str | None:
        """The key to send now: a changed, readable file's new key, else the one in use."""
        stamp = self._stat()
        if stamp is not None and stamp != self._stamp:
            try:
                if self.settings.environment == "production":
                    refuse_shared(self.path, "the site key file")
                key = read_key(self.path)
            except ValueError as err:
                logger.error("new site key not taken (keeping the current one): %s", err)
            else:
                if key != self.settings.client_api_key:
                    logger.info("site key file %s changed: using the new key", self.path)
                self.settings.client_api_key = key
            self._stamp = stamp
        return self.settings.client_api_key
