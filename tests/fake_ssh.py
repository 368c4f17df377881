"""Stands in for ssh in tests: `fake_ssh.py [-o opt ...] HOST COMMAND...` joins COMMAND with spaces
and runs it through `sh -c`, exactly the way ssh hands its command to the remote shell."""

import os
import sys

args = sys.argv[1:]
while args and args[0].startswith("-"):
    args = args[2:] if args[0] == "-o" else args[1:]
host, command = args[0], " ".join(args[1:])
os.environ["FAKE_SSH_HOST"] = host
os.execvp("sh", ["sh", "-c", command])
