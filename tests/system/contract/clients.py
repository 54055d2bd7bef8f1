"""Generating the partner clients from the live server's OpenAPI document.

`openapi-python-client` (pinned in pyproject's dev extra) and
`@hey-api/openapi-ts` with `typescript` (pinned, with their lock file, in
`ts/package.json`) run as a partner developer would run them. `npm ci`
installs the TypeScript tools once into `ts/node_modules` (kept between runs:
its presence is the cache).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import shutil
import subprocess  # nosec B404 (fixed commands of the test's own tools)
import sys
import time
from pathlib import Path
from types import ModuleType

TS_DIR = Path(__file__).parent / "ts"
PACKAGE = "casebridge_client"
TIMINGS: dict[str, float] = {}


def _run(name: str, command: list[str], cwd: Path) -> str:
    """Run one tool; its output, or a failure naming it with what it said."""
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603  # nosec B603 (fixed argument lists)
        command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    TIMINGS[name] = round(time.monotonic() - started, 1)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise AssertionError(f"{name} failed ({result.returncode}):\n{output[-4000:]}")
    return output


def operations(schema: dict) -> dict[str, tuple[str, str]]:
    """Every operation of the document: operationId -> (METHOD, path)."""
    return {
        operation["operationId"]: (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }


def generate_python(schema_file: Path, out: Path) -> ModuleType:
    """Generate the Python client into `out` and import it; warnings fail."""
    config = out / "openapi-python-client.yaml"
    out.mkdir(parents=True, exist_ok=True)
    # No post hooks: formatting the generated code is not the contract. The tus
    # chunk's media type is raw bytes to the generator (its documented override).
    config.write_text(
        f"post_hooks: []\npackage_name_override: {PACKAGE}\n"
        "content_type_overrides:\n"
        "  application/offset+octet-stream: application/octet-stream\n"
    )
    executable = Path(sys.executable).with_name("openapi-python-client")
    output = _run(
        "openapi-python-client",
        [
            str(executable),
            "generate",
            "--path",
            str(schema_file),
            "--output-path",
            str(out / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
            "--overwrite",
        ],
        out,
    )
    assert "Warning" not in output, output
    sys.path.insert(0, str(out))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    return importlib.import_module(PACKAGE)


def operation_modules(package: ModuleType) -> dict[str, ModuleType]:
    """The generated module of each operation (named after its operationId)."""
    api = importlib.import_module(f"{package.__name__}.api")
    modules = {}
    for tag in pkgutil.iter_modules(api.__path__):
        tag_package = importlib.import_module(f"{api.__name__}.{tag.name}")
        for op in pkgutil.iter_modules(tag_package.__path__):
            modules[op.name] = importlib.import_module(f"{tag_package.__name__}.{op.name}")
    return modules


def npm_ci() -> None:
    if (TS_DIR / "node_modules" / ".bin" / "tsc").exists():
        TIMINGS["npm ci"] = 0.0
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed for the TypeScript client"
    _run("npm ci", [npm, "ci", "--no-audit", "--no-fund"], TS_DIR)


def generate_and_compile_typescript(schema_file: Path, out: Path) -> None:
    """Generate the TypeScript client with @hey-api/openapi-ts and compile it
    with `tsc --strict` (a schema that types a body as `never`, or a response
    the client cannot name, fails here)."""
    npm_ci()
    out.mkdir(parents=True, exist_ok=True)
    bin_dir = TS_DIR / "node_modules" / ".bin"
    client_dir = out / "client"
    _run(
        "openapi-ts",
        [str(bin_dir / "openapi-ts"), "-i", str(schema_file), "-o", str(client_dir)],
        out,
    )
    (out / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {
                    "strict": True,
                    "noEmit": True,
                    "target": "ES2022",
                    "module": "ESNext",
                    "moduleResolution": "Bundler",
                    "lib": ["ES2022", "DOM", "DOM.Iterable"],
                    "skipLibCheck": True,
                    "typeRoots": [],
                },
                "include": ["client/**/*.ts"],
            }
        )
    )
    _run("tsc --strict", [str(bin_dir / "tsc"), "-p", str(out / "tsconfig.json")], out)
