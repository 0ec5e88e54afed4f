"""Service layer: plain async functions over an AsyncSession, shared by GraphQL resolvers and the MCP server."""
