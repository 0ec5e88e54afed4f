"""uploadReadings without graphql-core for the edge agent's own document: ~40% of a small upload's CPU.

An edge sends one document (db/wire.py UPLOAD_READINGS_DOCUMENT) all day long. When a POST carries exactly
that document, as written or as gql prints it, with a site key and readings that decode_upload has already
checked, the view stores the batch through the service the resolver uses (api/services/edge.py) and renders the answer for that
document's fixed selection (an edge whose graphql-core prints the document otherwise just takes the general
path). Everything else takes the general path; so does this request when the fast path
fails unexpectedly: an upload is idempotent by batch id, so running it again there is safe, and the general
path reports the error as it always does.
"""

import logging

from graphql import parse, print_ast, specified_rules, validate
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from api import metrics
from api.services.edge import UploadRefused, store_upload
from db.central.ingest.batch import IngestOutcome
from db.central.ingest.parse import CheckedReadings, ColumnReadings
from db.wire import UPLOAD_READINGS_DOCUMENT

logger = logging.getLogger(__name__)
OPERATION_NAMES = (None, "Upload")


def edge_upload_queries(schema) -> frozenset[str]:
    """The query strings the fast path answers: none unless the document validates under schema's rules."""
    document = parse(UPLOAD_READINGS_DOCUMENT)
    errors = validate(schema._schema, document, [*specified_rules, *schema.limit_rules])
    if errors:
        logger.warning("edge upload document fails validation (%s): no fast path", errors[0].message)
        return frozenset()
    return frozenset((UPLOAD_READINGS_DOCUMENT, print_ast(document)))


def checked_batch(queries: frozenset[str], method: str, data, context) -> dict | None:
    """The request's batch when the fast path may answer it, else None."""
    if method != "POST" or not isinstance(data, GraphQLRequestData) or context.site is None:
        return None
    if data.query not in queries or data.operation_name not in OPERATION_NAMES or data.extensions:
        return None
    batch = data.variables.get("batch") if type(data.variables) is dict else None
    return (
        batch
        if type(batch) is dict and type(batch.get("readings")) in (CheckedReadings, ColumnReadings)
        else None
    )


def render(outcome: IngestOutcome | UploadRefused) -> dict:
    """The document's selection of a stored upload, as graphql-core would give it."""
    if isinstance(outcome, UploadRefused):
        return {"__typename": "UploadRejected", "reason": outcome.reason}
    return {
        "__typename": "UploadResult",
        "batchId": outcome.batch_id,
        "new": outcome.new,
        "duplicates": outcome.duplicates,
        "rejected": outcome.rejected,
        "replayed": outcome.replayed,
        "rejections": [{"index": r["index"], "reason": r["reason"]} for r in outcome.rejections],
    }


async def answer_upload(context, batch: dict) -> ExecutionResult | None:
    """Store the batch and answer it; None when the general path must answer instead."""
    try:
        answer = await store_upload(context, batch["batchId"], batch["readings"])
    except Exception:  # noqa: BLE001  (the general path runs it again and reports the error)
        logger.info("upload fast path failed; the general path answers", exc_info=True)
        return None
    metrics.UPLOADS.labels("fast").inc()
    return ExecutionResult(data={"uploadReadings": render(answer)}, errors=None)
