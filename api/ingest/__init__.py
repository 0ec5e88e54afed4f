"""The edge's uploads on their fast path: the request decoder and the answer without graphql-core."""
