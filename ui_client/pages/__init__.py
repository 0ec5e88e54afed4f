"""One module per page, each with its own substate of the shared session state."""
