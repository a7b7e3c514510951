"""This host's name, as monitors and operations record it.

$JOBCONSOLE_HOST overrides it: useful when one machine hosts several logical hosts
(containers sharing a hostname, or tests that play several hosts on one machine).
"""
import os
import socket


def this_host():
    return os.environ.get("JOBCONSOLE_HOST") or socket.gethostname()
