"""Reports and monthly report schedules in GraphQL."""
