"""TLS served by `meterit api`: TLS 1.3 only unless TLS_MIN_VERSION=1.2 (uvicorn has no minimum-version option)."""

import ssl

import uvicorn

VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


class MinimumTlsConfig(uvicorn.Config):
    """A uvicorn Config whose TLS context refuses versions below tls_min_version ("1.3" or "1.2").

    The setting is applied in load(), which every worker process runs for itself.
    """

    def __init__(self, *args, tls_min_version: str = "1.3", **kwargs) -> None:
        if tls_min_version not in VERSIONS:
            raise ValueError(f"TLS_MIN_VERSION must be one of {', '.join(VERSIONS)}")
        self.tls_min_version = tls_min_version
        super().__init__(*args, **kwargs)

    def load(self) -> None:
        """Load as uvicorn does, then raise the TLS context's minimum version."""
        super().load()
        if self.ssl is not None:
            self.ssl.minimum_version = VERSIONS[self.tls_min_version]


def serve(app: str, *, workers: int, tls_min_version: str, **kwargs) -> None:
    """uvicorn.run with MinimumTlsConfig (one process, or a supervisor and `workers` processes)."""
    import sys

    from uvicorn.supervisors import Multiprocess

    config = MinimumTlsConfig(app, workers=workers, tls_min_version=tls_min_version, **kwargs)
    server = uvicorn.Server(config)
    if config.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    server.run()
    if not server.started:
        sys.exit(3)  # uvicorn's STARTUP_FAILURE
