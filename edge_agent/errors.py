"""Exceptions of the edge agent.

EdgeError
├── ConfigError              meters.json or siteConfig content is invalid
│   └── BacnetPortInUse      BACNET_INTERFACE:BACNET_PORT is taken by another process
├── BacnetError              a BACnet exchange failed (wraps bacpypes3's BaseException-derived errors)
│   ├── DeviceTimeout        the device did not answer in time
│   └── DeviceRefused        the device answered with an Error/Reject/Abort
└── UploadError              an upload to central failed
    ├── CentralUnreachable   connection refused, timeout, 5xx: keep queueing and retry
    ├── Unauthorized         HTTP 401: the site key is wrong or revoked; uploading stops
    ├── RateLimited          HTTP 429: wait `retry_after` seconds
    └── BatchRefused         central refused the whole batch (UploadRejected)

The outbox (db/edge/outbox.py) raises db.edge.outbox.OutboxFull (a db.errors.DbError) when its cap refuses readings.
"""


class EdgeError(Exception):
    """Base of every edge agent error."""


class ConfigError(EdgeError):
    """Invalid meter or agent configuration."""


class BacnetPortInUse(ConfigError):
    """The BACnet UDP port is already bound by another process."""


class BacnetError(EdgeError):
    """A BACnet request failed."""


class DeviceTimeout(BacnetError):
    """The device did not answer within the timeout."""


class DeviceRefused(BacnetError):
    """The device answered with an error, reject or abort."""


class UploadError(EdgeError):
    """An upload to central failed."""


class CentralUnreachable(UploadError):
    """Central could not be reached or answered with a server error."""


class Unauthorized(UploadError):
    """Central refused the site key (HTTP 401)."""


class RateLimited(UploadError):
    """Central asked to slow down (HTTP 429)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BatchRefused(UploadError):
    """Central refused the whole batch; nothing was written."""
