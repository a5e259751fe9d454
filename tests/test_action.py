"""The GitHub Action: `action.yml` is checked for script injection and pinning, then every
`run:` step is executed locally in order with a simulated runner (GITHUB_OUTPUT,
GITHUB_STEP_SUMMARY, GITHUB_WORKSPACE, RUNNER_TEMP), the step's `env:` with inputs and step
outputs substituted, and `if:` conditions evaluated. `uses:` steps (actions/cache,
upload-sarif) are not run; their `with:` values are resolved and checked instead.

Offline, the install step is replaced by this checkout's interpreter (wormsign is installed
in it); the `online` test runs the real install step (pip, from PyPI).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from scanner.integrations.github_action import escape_data, escape_property, workflow_command

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"
OSV_EXPORT = SHARED / "advisories" / "osv-pypi.zip"
ACTION = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
H = "c" * 64
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


# --- static checks ---------------------------------------------------------------------------


def test_no_expression_inside_run() -> None:
    for step in STEPS:
        if "run" in step:
            assert "${{" not in step["run"], step.get("name")
            assert "inputs." not in step["run"]


def test_actions_pinned_by_full_sha() -> None:
    text = (REPO / "action.yml").read_text(encoding="utf-8")
    uses = [s["uses"] for s in STEPS if "uses" in s]
    assert {u.split("@")[0] for u in uses} == {"actions/cache", "github/codeql-action/upload-sarif"}
    for ref in uses:
        assert re.fullmatch(r"[\w./-]+@[0-9a-f]{40}", ref), ref
        assert re.search(re.escape(ref) + r" # v\d+\.\d+\.\d+", text), f"{ref}: version comment"


def test_inputs_documented_with_defaults() -> None:
    for name, spec in ACTION["inputs"].items():
        default = str(spec["default"])
        shown = default if default else "empty"
        assert spec["description"].endswith(f"(default {shown})"), name


def test_every_input_reaches_a_step() -> None:
    env_text = json.dumps([s.get("env", {}) for s in STEPS] + [s.get("if", "") for s in STEPS])
    for name in ACTION["inputs"]:
        assert f"inputs.{name}" in env_text, name


def test_workflow_command_escaping() -> None:
    assert escape_data("50%\r\n::error::x") == "50%25 ::error::x"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"
    line = workflow_command("error", "bad\nline", file="x,y.txt", line=3, title="t:1")
    assert line == "::error file=x%2Cy.txt,line=3,title=t%3A1::bad line"
    assert "\n" not in workflow_command("warning", "\x1b[31m\u202e\r\n")


# --- the simulated runner --------------------------------------------------------------------


@dataclass
class Runner:
    """One job: inputs, step outputs and the files GitHub provides."""

    workspace: Path
    temp: Path
    inputs: dict[str, str]
    install: bool = False
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    logs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    uses: dict[str, dict[str, str]] = field(default_factory=dict)
    failed: bool = False

    @property
    def summary(self) -> Path:
        return self.temp / "step_summary.md"

    def value(self, expr: str) -> str:
        parts = expr.split(".")
        if parts[0] == "inputs":
            return self.inputs[parts[1]]
        if parts[0] == "steps" and parts[2] == "outputs":
            return self.outputs.get(parts[1], {}).get(parts[3], "")
        if expr == "github.action_path":
            return str(REPO)
        raise AssertionError(f"unsupported expression {expr!r}")

    def substitute(self, text: str) -> str:
        return EXPR.sub(lambda m: self.value(m.group(1)), text)

    def condition(self, cond: str) -> bool:
        """The few forms action.yml uses: always(), ==, !=, &&, ||, contexts, 'literals'."""
        values: dict[str, str] = {}

        def name(m: re.Match[str]) -> str:
            values[f"v{len(values)}"] = self.value(m.group(0))
            return f"v{len(values) - 1}"

        py = re.sub(r"\b(inputs|steps)\.[\w.-]+", name, cond)
        py = py.replace("always()", "True").replace("&&", " and ").replace("||", " or ")
        if not re.fullmatch(r"(\s|\w|'[^']*'|[()=!])*", py):
            raise AssertionError(f"unsupported condition {cond!r}")
        if "True" not in py and self.failed:
            return False  # success() is implied
        return bool(eval(py, {"__builtins__": {}}, values))

    def env(self, step: dict[str, Any], output_file: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            GITHUB_ACTIONS="true",
            CI="true",
            GITHUB_WORKSPACE=str(self.workspace),
            GITHUB_OUTPUT=str(output_file),
            GITHUB_STEP_SUMMARY=str(self.summary),
            GITHUB_ACTION_PATH=str(REPO),
            RUNNER_TEMP=str(self.temp),
            RUNNER_OS="Linux",
            XDG_CACHE_HOME=str(self.temp / "cache"),
            PYTHONPATH=str(REPO),
            NO_COLOR="1",
        )
        for key, raw in (step.get("env") or {}).items():
            env[key] = self.substitute(str(raw))
        return env

    def run(self) -> int:
        """Every step in order; returns the job's exit code (the first failing step's)."""
        code = 0
        for step in STEPS:
            sid = step.get("id") or step["name"]
            if "if" in step and not self.condition(step["if"]):
                continue
            if self.failed:
                continue
            if "uses" in step:
                self.uses[step["uses"].split("@")[0]] = {
                    k: self.substitute(str(v)) for k, v in (step.get("with") or {}).items()
                }
                self.outputs[sid] = {"cache-hit": ""} if "cache" in step["uses"] else {}
                continue
            if sid == "install" and not self.install:
                self.outputs[sid] = {"python": sys.executable}
                continue
            output_file = self.temp / f"output-{sid}"
            output_file.write_text("")
            script = self.temp / f"step-{sid}.sh"
            script.write_text(step["run"])
            argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)]
            proc = subprocess.run(
                argv,
                cwd=self.workspace,
                env=self.env(step, output_file),
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            self.logs[sid] = proc
            self.outputs[sid] = parse_outputs(output_file.read_text())
            if proc.returncode != 0:
                self.failed = True
                code = proc.returncode
        return code


def parse_outputs(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT: `name=value` lines and `name<<DELIM` ... `DELIM` blocks."""
    out: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        name, _, value = line.partition("=")
        out[name] = value
        i += 1
    return out


@pytest.fixture(scope="module")
def osv_subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two real records from the shared OSV export, as a small export of their own."""
    if not OSV_EXPORT.is_file():
        pytest.skip(f"OSV export not found at {OSV_EXPORT}")
    path = tmp_path_factory.mktemp("osv") / "subset.zip"
    with zipfile.ZipFile(OSV_EXPORT) as src, zipfile.ZipFile(path, "w") as dst:
        for name in ("PYSEC-2024-154.json", "MAL-2023-1354.json"):
            dst.writestr(name, src.read(name))
    return path


def runner(tmp_path: Path, database: Path, files: dict[str, str], **inputs: str) -> Runner:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    for name, text in files.items():
        (workspace / name).write_text(text)
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    values = {name: str(spec["default"]) for name, spec in ACTION["inputs"].items()}
    values.update(database=str(database))
    values.update(inputs)
    return Runner(workspace=workspace, temp=temp, inputs=values)


def stdout_commands(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """Lines the runner would treat as workflow commands (outside ::stop-commands::)."""
    active: list[str] = []
    stopped_token: str | None = None
    for line in proc.stdout.splitlines():
        if stopped_token is not None:
            if line == f"::{stopped_token}::":
                stopped_token = None
            continue
        if line.startswith("::stop-commands::"):
            stopped_token = line.removeprefix("::stop-commands::")
            continue
        if line.startswith("::"):
            active.append(line)
    return active


def sarif_errors(path: Path) -> list[str]:
    if not SCHEMA.is_file():
        pytest.skip(f"SARIF schema not found at {SCHEMA}")
    from jsonschema import Draft4Validator

    validator = Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    return [e.message for e in validator.iter_errors(json.loads(path.read_text()))]


# --- the action, run -------------------------------------------------------------------------


def test_clean_workspace_passes(tmp_path: Path, osv_subset: Path) -> None:
    job = runner(tmp_path, osv_subset, {"requirements.txt": f"click==8.1.7 --hash=sha256:{H}\n"})
    assert job.run() == 0, {k: v.stdout + v.stderr for k, v in job.logs.items()}
    scan = job.outputs["scan"]
    assert (scan["exit-code"], scan["blocked"]) == ("0", "false")
    report = json.loads((job.workspace / "wormsign-reports" / "wormsign.json").read_text())
    assert int(scan["findings"]) == len(report["findings"])
    assert not any(f["severity"] in ("high", "critical") for f in report["findings"])
    assert "✅ passed" in job.summary.read_text()
    sarif = Path(job.uses["github/codeql-action/upload-sarif"]["sarif_file"])
    sarif = sarif if sarif.is_absolute() else job.workspace / sarif
    assert sarif_errors(sarif) == []
    assert (job.workspace / "wormsign-reports" / "wormsign.json").is_file()
    assert job.uses["actions/cache"]["path"] == str(tmp_path / "runner-temp" / "cache" / "wormsign")
    assert job.uses["actions/cache"]["key"].startswith("wormsign-osv-v1-Linux-")


def test_malicious_pin_fails_the_job_after_uploading(tmp_path: Path, osv_subset: Path) -> None:
    lock = f"click==8.1.7 --hash=sha256:{H}\nultralytics==8.3.41 --hash=sha256:{H}\n"
    job = runner(tmp_path, osv_subset, {"requirements.txt": lock})
    assert job.run() == 1
    assert job.outputs["scan"]["blocked"] == "true"
    # SARIF reached the upload step before the gate failed the job.
    sarif = job.workspace / job.uses["github/codeql-action/upload-sarif"]["sarif_file"]
    assert sarif_errors(sarif) == []
    run = json.loads(sarif.read_text())["runs"][0]
    results = run["results"]
    hit = next(r for r in results if r["properties"].get("wormsign_rule") == "WS-ADV-MAL")
    # one SARIF rule per advisory, named by the advisory's id
    assert hit["ruleId"] == hit["properties"]["references"][0] != "WS-ADV-MAL"
    assert run["tool"]["driver"]["rules"][hit["ruleIndex"]]["id"] == hit["ruleId"]
    assert hit["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    commands = stdout_commands(job.logs["scan"])
    assert any(
        c.startswith(
            "::error file=requirements.txt,line=2,title=wormsign WS-ADV-MAL::"
            "critical ultralytics==8.3.41"
        )
        for c in commands
    ), commands
    assert "PYSEC-2024-154" in job.summary.read_text()
    assert "❌ blocked" in job.summary.read_text()


def test_hostile_file_name_cannot_inject_commands(tmp_path: Path, osv_subset: Path) -> None:
    name = "requirements-x\n::error::pwned\r\n::set-output name=blocked::false%0A.txt"
    job = runner(tmp_path, osv_subset, {name: "rich>=13\n"}, **{"fail-on": "medium"})
    assert job.run() == 1
    commands = stdout_commands(job.logs["scan"])
    assert commands, "the finding should be annotated"
    for line in commands:
        assert line.startswith(("::error file=", "::warning file=")), line
        assert "title=wormsign" in line
        # One command per line; its properties hold no raw `:` (escaped), so the hostile
        # text can only sit inside a property value or the message, never start a command.
        assert re.fullmatch(r"::(error|warning) [^:\r\n]*::[^\r\n]*", line), line
    assert job.outputs["scan"]["blocked"] == "true"
    assert "\n::error::pwned" not in job.summary.read_text()


def test_bad_input_is_a_configuration_error(tmp_path: Path, osv_subset: Path) -> None:
    job = runner(
        tmp_path, osv_subset, {"requirements.txt": "rich==13.0.0\n"}, **{"fail-on": "bogus"}
    )
    assert job.run() == 2
    assert job.outputs["scan"]["exit-code"] == "2"
    assert "upload-sarif" not in " ".join(job.uses)  # no SARIF was written, none uploaded
    assert any("configuration error" in c for c in stdout_commands(job.logs["scan"]))
    assert "configuration error" in job.summary.read_text()


def test_missing_database_fails_closed(tmp_path: Path) -> None:
    job = runner(
        tmp_path,
        tmp_path / "no-such-export.zip",
        {"requirements.txt": f"click==8.1.7 --hash=sha256:{H}\n"},
    )
    assert job.run() == 3
    assert "scan" not in job.logs  # nothing scanned against a missing database


@pytest.mark.online
def test_full_action_with_real_install(tmp_path: Path, osv_subset: Path) -> None:
    job = runner(
        tmp_path, osv_subset, {"requirements.txt": f"ultralytics==8.3.41 --hash=sha256:{H}\n"}
    )
    job.install = True
    assert job.run() == 1, {k: v.stdout + v.stderr for k, v in job.logs.items()}
    assert job.outputs["install"]["python"].endswith("wormsign-venv/bin/python")
    assert job.outputs["scan"]["blocked"] == "true"
