"""Site inventories in GraphQL: versioned meter configuration, history, edits and proposals."""
