"""Which of central's C loops this install has: setup.py builds them where a C compiler is found."""

from db.central import energy_fold
from db.central.ingest import batch


def native_loops() -> dict[str, bool]:
    """{"fold": db/central/_fold.c is built, "upload_rows": db/central/ingest/_rows.c is built}.

    Without one, its Python form runs: the same results at several times the CPU per reading.
    """
    return {"fold": energy_fold.native is not None, "upload_rows": batch.native_rows is not None}
