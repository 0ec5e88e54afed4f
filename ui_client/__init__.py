"""Central dashboard: a Reflex app that talks to the central API over GraphQL only."""
