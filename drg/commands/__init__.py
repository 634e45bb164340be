"""The ``drg`` commands, one module each (imported when the command runs): each ``cmd_*`` takes the parsed options,
calls the work, prints what it did and returns the exit status."""
