"""Debian packages that some tests need and install themselves when missing.

CI runs on a clean machine of the project's kind (root, Debian's package
registry reachable), so a test that needs a program outside the Python
environment (Chromium and its fonts, nginx) installs it from Debian's
packages, never from a download of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping


class PackagesUnavailable(RuntimeError):
    """The packages are missing and could not be installed here (no apt-get,
    not root, or apt-get failed): the message says which and why."""


def ensure_debian_packages(packages: Mapping[str, Callable[[], object]]) -> None:
    """Install with apt-get each package whose `present()` check is false.

    `packages` maps a Debian package name to a check that it is installed (a
    file or a program on PATH), so that a machine that has them runs no
    apt-get at all. Raises `PackagesUnavailable` when they are missing and
    cannot be installed, or are still missing after installing.
    """
    missing = [name for name, present in packages.items() if not present()]
    if not missing:
        return
    if shutil.which("apt-get") is None:
        raise PackagesUnavailable(f"{', '.join(missing)} not installed, and there is no apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", *missing],
    ):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise PackagesUnavailable(
                f"`{' '.join(argv)}` failed ({done.returncode}):\n{done.stderr[-2000:]}"
            )
    still = [name for name, present in packages.items() if not present()]
    if still:
        raise PackagesUnavailable(f"{', '.join(still)} still missing after apt-get install")
