"""CLI command groups; each module registers its commands on `stepdown.cli.app`."""
