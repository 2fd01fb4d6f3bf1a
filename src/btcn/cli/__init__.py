"""The ``btcn`` command line: thin commands that parse options, call one stage, render the result."""
