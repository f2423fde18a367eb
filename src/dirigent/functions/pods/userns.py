"""Pods without root: run the command in a user namespace of its own, where it may make network namespaces.

Network namespaces take CAP_SYS_ADMIN. A user who is not root gets it inside a user namespace of their own
(`unshare --user --map-root-user`), as its "root", mapped to their own user outside: files the server writes
stay theirs, and nothing gains any right on the host. `dirigent server` and `dirigent run` restart themselves
that way before they start, when they are not root and the machine allows unprivileged user namespaces.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

#: Set in the restarted command, so that it does not restart again.
MARKER = "DIRIGENT_IN_USER_NAMESPACE"


def restart_in_user_namespace() -> None:
    """Replace this process with the same command in a user namespace of its own, if that is
    needed (not root) and possible; otherwise return, and pods say what is missing."""
    if os.geteuid() == 0 or os.environ.get(MARKER):
        return
    unshare = shutil.which("unshare")
    if unshare is None:
        return
    command = [unshare, "--user", "--map-root-user", "--"]
    probe = subprocess.run([*command, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        return
    os.environ[MARKER] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(unshare, [*command, sys.executable, "-m", "dirigent", *sys.argv[1:]])
