"""GraphQL at /graphql: `common` (context, scope, waits, errors), one module per concept, `schema` merges them."""
