#!/usr/bin/env python3
"""`make security`: bandit on the project code, pip-audit on the dependencies.

Exit status: 0 clean; 1 a finding (a vulnerable dependency or a bandit issue);
2 the dependency audit could not be done and SECURITY_STRICT=1 asked that to
fail. Without SECURITY_STRICT an audit that could not reach its
vulnerability service passes with a loud warning, never silently: this
machine reaches the package index but not every advisory service, so CI
would otherwise never land. Run with SECURITY_STRICT=1 where the service is
reachable (a release pipeline).

pip-audit checks two things: the direct pins in pyproject.toml (what a
deployment installs) and the installed environment (the transitive versions
actually in use). Accepted advisories live in .pip-audit-ignore, one id per
line with the reason after a `#`; an id without a reason is refused.
"""

from __future__ import annotations

import json
import os
import subprocess  # nosec B404  # runs our own scanners
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
IGNORE_FILE = ROOT / ".pip-audit-ignore"


def _banner(text: str) -> None:
    line = "!" * 78
    print(f"\n{line}\n{text}\n{line}\n", file=sys.stderr)


def run_bandit() -> int:
    print("== bandit (config: pyproject.toml [tool.bandit])")
    command = [str(BIN / "bandit"), "-c", "pyproject.toml", "-r", ".", "-q"]
    return subprocess.call(command, cwd=ROOT)  # noqa: S603  # nosec B603


def ignored_vulns() -> list[str]:
    ids = []
    if not IGNORE_FILE.exists():
        return ids
    for number, raw in enumerate(IGNORE_FILE.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        vuln, _, reason = line.partition("#")
        if not reason.strip():
            sys.exit(f"{IGNORE_FILE.name}:{number}: give a reason after '#' for {vuln.strip()}")
        ids.append(vuln.strip())
    return ids


def pinned_requirements() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        pins += extra
    return "\n".join(pins) + "\n"


def audit(label: str, args: list[str]) -> tuple[int, int, int]:
    """(vulnerable packages, packages that could not be audited, packages seen)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        command = [str(BIN / "pip-audit"), *args, "--progress-spinner", "off", "-f", "json"]
        command += ["-o", str(report)]
        for vuln in ignored_vulns():
            command += ["--ignore-vuln", vuln]
        result = subprocess.run(  # noqa: S603  # nosec B603  # fixed argv, no shell
            command, cwd=ROOT, capture_output=True, text=True
        )
        if not report.exists():
            print(result.stderr[-2000:], file=sys.stderr)
            _banner(f"WARNING: pip-audit ({label}) could not run: dependency audit NOT performed.")
            return 0, 1, 1
        dependencies = json.loads(report.read_text())["dependencies"]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    print(
        f"== pip-audit ({label}): {len(dependencies)} packages, "
        f"{len(vulnerable)} vulnerable, {len(skipped)} not audited"
    )
    if skipped:
        names = ", ".join(sorted(d["name"] for d in skipped)[:12])
        _banner(
            f"WARNING: pip-audit ({label}) could not audit {len(skipped)} of "
            f"{len(dependencies)} packages (vulnerability service unreachable or the\n"
            f"package unknown to it): {names}{' …' if len(skipped) > 12 else ''}\n"
            "The dependency scan is INCOMPLETE. Run `make security` with SECURITY_STRICT=1\n"
            "where the advisory service is reachable."
        )
    return len(vulnerable), len(skipped), len(dependencies)


def main() -> int:
    failed = run_bandit() != 0
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write(pinned_requirements())
        requirements = handle.name
    try:
        pinned = audit("pinned", ["-r", requirements, "--no-deps", "--disable-pip"])
    finally:
        os.unlink(requirements)
    installed = audit("installed", ["--skip-editable"])
    failed = failed or pinned[0] > 0 or installed[0] > 0
    degraded = pinned[1] > 0 or installed[1] > 0
    if failed:
        print("security: FAILED", file=sys.stderr)
        return 1
    if degraded and os.environ.get("SECURITY_STRICT") == "1":
        print("security: dependency audit incomplete and SECURITY_STRICT=1", file=sys.stderr)
        return 2
    outcome = "INCOMPLETE (see warning)" if degraded else "clean"
    print(f"security: bandit clean; pip-audit {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
