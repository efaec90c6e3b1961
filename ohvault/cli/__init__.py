"""The `ohvault` command: no argument opens the GUI, subcommands form the CLI."""
