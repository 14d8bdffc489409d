"""The errors a user can act on. Their message names the key, file or flag, what was expected
and what was found; the command line prints it as one `error:` line and exits with code 2."""


class PipelineError(Exception):
    """Bad input: config, data, a base model or a command-line flag."""
