"""The command line: the only layer that parses arguments and decides exit statuses."""
