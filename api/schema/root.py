"""The assembled schema: Query/Mutation/Subscription from the domain modules, limits, quiet expected errors."""

import logging
from datetime import datetime
from functools import partial

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)

from api.errors import ApiError
from api.schema.alerts.mutations import AlertRulesMutation, AlertsMutation
from api.schema.alerts.schema import AlertOutlookQuery, AlertRulesQuery, AlertsQuery, DemoMailQuery
from api.schema.edge.mutations import EdgeMutation
from api.schema.edge.schema import EdgeQuery
from api.schema.inventory.mutations import InventoryMutation
from api.schema.inventory.schema import InventoryQuery
from api.schema.login_rule import OneLoginPerDocument
from api.schema.maintenance.mutations import MaintenanceMutation
from api.schema.maintenance.schema import MaintenanceQuery
from api.schema.meters.mutations import MetersMutation
from api.schema.meters.schema import MetersQuery
from api.schema.readings.schema import ReadingsQuery
from api.schema.reports.mutations import ReportSchedulesMutation
from api.schema.reports.schema import ReportSchedulesQuery, ReportsQuery
from api.schema.scalars import DateTime
from api.schema.sites.mutations import SitesMutation
from api.schema.sites.schema import FleetQuery, SitesQuery
from api.schema.tariffs.mutations import TariffsMutation
from api.schema.tariffs.schema import TariffsQuery
from api.schema.users.mutations import UsersMutation
from api.schema.users.schema import UsersQuery
from api.settings import CentralSettings
from db.errors import DbError

logger = logging.getLogger(__name__)
EXPECTED = (ApiError, DbError, ValueError)


@strawberry.type
class Query(
    EdgeQuery,
    SitesQuery,
    FleetQuery,
    MetersQuery,
    InventoryQuery,
    ReadingsQuery,
    AlertsQuery,
    UsersQuery,
    AlertRulesQuery,
    AlertOutlookQuery,
    MaintenanceQuery,
    DemoMailQuery,
    ReportsQuery,
    ReportSchedulesQuery,
    TariffsQuery,
):
    """Every query."""


@strawberry.type
class Mutation(
    EdgeMutation,
    UsersMutation,
    SitesMutation,
    MetersMutation,
    InventoryMutation,
    AlertsMutation,
    AlertRulesMutation,
    MaintenanceMutation,
    TariffsMutation,
    ReportSchedulesMutation,
):
    """Every mutation."""


def is_unexpected(error: GraphQLError) -> bool:
    """True for errors whose text may hold internals (not one of the API's own rejections)."""
    return not is_expected(error)


def is_expected(error: GraphQLError) -> bool:
    """True for rejections the API means to give (bad input, auth, limits), which need no traceback."""
    original = error.original_error
    return original is None or isinstance(original, EXPECTED)


class MeterITSchema(strawberry.Schema):
    """A schema that logs expected rejections as one line and only the unexpected with tracebacks."""

    def process_errors(self, errors, execution_context=None) -> None:
        """Log unexpected errors in full, expected ones briefly."""
        unexpected = []
        for error in errors:
            if is_expected(error):
                logger.info("rejected: %s", error.message)
            else:
                unexpected.append(error)
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(settings: CentralSettings, subscription=None) -> MeterITSchema:
    """The schema with the query depth, token and alias limits of the settings, and parse/validation caches."""
    # The limiters' rule classes are built once: a limiter made per request would create new rule classes
    # each time and defeat the validation cache, and edges send the same upload document thousands of times.
    limit_rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
        OneLoginPerDocument,
        *(() if settings.introspection_enabled else (NoSchemaIntrospectionCustomRule,)),
    ]
    schema = MeterITSchema(
        query=Query,
        mutation=Mutation,
        subscription=subscription,
        scalar_overrides={datetime: DateTime},
        extensions=[
            partial(MaxTokensLimiter, max_token_count=settings.max_query_tokens),
            partial(AddValidationRules, limit_rules),
            partial(ParserCache, maxsize=256),
            partial(ValidationCache, maxsize=256),
            # outside development an unexpected error reaches clients without its internals (logged in full)
            *(
                ()
                if settings.environment == "development"
                else (partial(MaskErrors, should_mask_error=is_unexpected, error_message="internal error"),)
            ),
        ],
    )
    schema.limit_rules = limit_rules  # api/ingest/fast.py checks the edge's document against them once
    return schema
