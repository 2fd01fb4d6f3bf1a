"""One ``run`` function per subcommand: request in, contract out. No argument parsing here."""
