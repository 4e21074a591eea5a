"""The `twin` subcommands, one module per area (registered in :mod:`twin.cli`)."""
