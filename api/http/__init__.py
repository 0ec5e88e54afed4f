"""HTTP plumbing of the API: the view, middleware, headers, request log, site-key limits, GraphiQL."""
