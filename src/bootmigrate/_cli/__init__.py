"""6. The command line: parse arguments, call one library function per command."""
