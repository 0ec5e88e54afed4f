"""A validation rule: at most one `login` field in a GraphQL document (aliases cannot try many passwords)."""

from graphql import FieldNode, GraphQLError, ValidationRule

MAX_LOGINS = 1


class OneLoginPerDocument(ValidationRule):
    """Refuses a document whose operations and fragments select `login` more than once."""

    def __init__(self, context) -> None:
        super().__init__(context)
        self.logins = 0

    def enter_field(self, node: FieldNode, *_args) -> None:
        """Count `login` selections; report once when there are too many."""
        if node.name.value != "login":
            return
        self.logins += 1
        if self.logins == MAX_LOGINS + 1:
            self.report_error(GraphQLError(f"at most {MAX_LOGINS} login field per document", node))
