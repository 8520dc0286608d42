"""The edges: HTTP (REST and GraphQL), the command line, spreadsheets.

- `app`: the FastAPI factory (every REST router and GraphQL mounted there);
- `rest`: one router per concept; `graphql`: one module per concept, merged in `graphql.schema`;
- `cli`: one command group per concept, registered in `cli.app`;
- `files`: spreadsheet import and export;
- `deps`, `errors`, `settings`, `presenters`, `demo`: authentication and headers, the one error body,
  configuration, domain objects → response shapes, demo data.

Routers, resolvers and commands translate to and from the use cases of `ledger`; they hold no business rule.
"""
