"""Per-device APDU timeout and retries for one bacpypes3 Application (bacpypes3 itself has one value per app).

bacpypes3 copies `apduTimeout` and `numberOfApduRetries` from the local device object into each client
transaction when it is created. The transaction list of the application service access point is swapped
for one that applies the per-device values as each transaction is added, before its timer starts.
"""

from bacpypes3.app import Application
from bacpypes3.pdu import Address


def address_key(address: str | Address) -> str:
    """One spelling per BACnet address ('127.0.0.10' and '127.0.0.10:47808' are the same station)."""
    return str(address if isinstance(address, Address) else Address(address))


class _TunedTransactions(list):
    """The asap's clientTransactions: each appended transaction gets its device's timeout and retries."""

    def __init__(self, items, table: dict[str, tuple[int, int]]) -> None:
        super().__init__(items)
        self.table = table

    def append(self, transaction) -> None:  # type: ignore[override]
        """Add a transaction, applying its device's values first."""
        values = self.table.get(str(transaction.pdu_address))
        if values is not None:
            transaction.apduTimeout, transaction.numberOfApduRetries = values
        super().append(transaction)


class DeviceTuning:
    """Per-address (timeout ms, retries) applied to every new client transaction of `app`."""

    def __init__(self, app: Application) -> None:
        self.table: dict[str, tuple[int, int]] = {}
        asap = app.asap
        if not isinstance(asap.clientTransactions, _TunedTransactions):
            asap.clientTransactions = _TunedTransactions(asap.clientTransactions, self.table)
        else:
            self.table = asap.clientTransactions.table

    def set(self, address: str, timeout_s: float, retries: int) -> None:
        """Requests to address from now on wait timeout_s per attempt and retry `retries` times."""
        self.table[address_key(address)] = (max(1, int(timeout_s * 1000)), max(0, retries))

    def get(self, address: str) -> tuple[int, int] | None:
        """The values set for address (ms, retries), if any."""
        return self.table.get(address_key(address))
