"""On-site edge agent: BACnet collection, durable outbox, uploader to central, local API."""

import sys

__version__ = "0.1.0"

# bacpypes3 loads BACnet/SC (secure connect over websockets) whenever websockets is installed, and skips it when
# the import fails; the agent speaks BACnet/IP only, so it keeps SC out (~0.5 MB of the agent's memory).
sys.modules.setdefault("bacpypes3.sc", None)
