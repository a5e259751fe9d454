"""Static analysis of Python source: what the code can do and what it is after.

Nothing here imports, compiles to bytecode or runs the code it reads. The source is
parsed with `ast`, names are resolved through the module's imports, constant
expressions are folded (string concatenation, `"".join`, `chr`, `bytes.fromhex`,
base64 / zlib / lzma / bz2 / hex / rot13 decodes), and literal payloads that would be
handed to `exec` are decoded in memory (bounded) and analysed in turn.

The result is a set of *signals* (a closed vocabulary, `SIGNALS`), each with the line
where it was seen and whether that place runs when the module is imported (module
level, or a function that module-level code calls) or only when some function is
called. Rules (`rules/*.toml`, kind `python-ast`) combine signals; a capability alone
(network, subprocess) is never enough for a blocking rule.
"""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import codecs
import lzma
import posixpath
import re
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

MAX_FOLD = 4 << 20
"""Largest constant (bytes or characters) the folder builds or decodes."""
MAX_DEPTH = 6
"""How many nested payloads (exec of decoded source) are analysed."""
MAX_SOURCE = 8 << 20
"""Source larger than this is not parsed (text rules still see it)."""


@dataclass(frozen=True, slots=True)
class Hit:
    """One place where a signal was seen."""

    signal: str
    line: int
    evidence: str
    unit: str
    """The function (qualified name) or `<module>` whose body holds the hit."""


@dataclass(slots=True)
class Analysis:
    """Signals of one Python file, by unit, with the units that run at import time."""

    hits: list[Hit] = field(default_factory=list)
    import_time_units: set[str] = field(default_factory=lambda: {"<module>"})
    parsed: bool = True
    error: str | None = None
    _by_unit: dict[bool, dict[str, list[Hit]]] = field(default_factory=dict)
    _by_unit_size: int = -1
    _signal_set: frozenset[str] | None = None

    def signals(self, *, import_time: bool = False) -> set[str]:
        """Every signal seen (only in import-time units when asked)."""
        return {h.signal for h in self.select(import_time=import_time)}

    def select(self, *, import_time: bool = False) -> Iterator[Hit]:
        """Hits, optionally only those in units that run at import time."""
        for hit in self.hits:
            if not import_time or hit.unit in self.import_time_units:
                yield hit

    def by_unit(self, *, import_time: bool = False) -> dict[str, list[Hit]]:
        """Hits grouped by the unit (function or module body) that holds them (computed
        once: every python-ast rule asks for it)."""
        cached = self._by_unit.get(import_time)
        if cached is not None and self._by_unit_size == len(self.hits):
            return cached
        out: dict[str, list[Hit]] = {}
        for hit in self.select(import_time=import_time):
            out.setdefault(hit.unit, []).append(hit)
        if self._by_unit_size != len(self.hits):
            self._by_unit.clear()
            self._by_unit_size = len(self.hits)
        self._by_unit[import_time] = out
        return out

    def signal_set(self) -> frozenset[str]:
        """Every signal of the file, anywhere (a rule that needs one absent here cannot
        match, whatever the grouping)."""
        if self._signal_set is None or self._by_unit_size != len(self.hits):
            self._signal_set = frozenset(h.signal for h in self.hits)
        return self._signal_set


# --------------------------------------------------------------------------- vocabulary

# Calls, by resolved qualified name (fnmatch-like: a trailing `*` matches a prefix).
CALL_SIGNALS: dict[str, tuple[str, ...]] = {
    "builtins.exec": ("exec",),
    "builtins.eval": ("exec",),
    "builtins.compile": ("compile",),
    "builtins.__import__": ("dynamic-import",),
    "importlib.import_module": ("dynamic-import",),
    "marshal.loads": ("decode", "marshal"),
    "types.FunctionType": ("marshal",),
    "types.CodeType": ("marshal",),
    "base64.*": ("decode",),
    "binascii.a2b_*": ("decode",),
    "binascii.unhexlify": ("decode",),
    "codecs.decode": ("decode",),
    "zlib.decompress": ("decode",),
    "lzma.decompress": ("decode",),
    "bz2.decompress": ("decode",),
    "gzip.decompress": ("decode",),
    "bytes.fromhex": ("decode",),
    "*.Fernet.decrypt": ("decode",),
    "*Fernet*.decrypt": ("decode",),
    "*AES*.decrypt": ("decode",),
    "subprocess.*": ("subprocess",),
    "os.system": ("subprocess", "shell"),
    "os.popen": ("subprocess", "shell"),
    "os.exec*": ("subprocess",),
    "os.spawn*": ("subprocess",),
    "os.posix_spawn*": ("subprocess",),
    "os.startfile": ("subprocess", "start-file"),
    "pty.spawn": ("subprocess",),
    "os.dup2": ("fd-redirect",),
    "commands.getoutput": ("subprocess", "shell"),
    "commands.getstatusoutput": ("subprocess", "shell"),
    "asyncio.create_subprocess_*": ("subprocess",),
    "multiprocessing.Process": ("background",),
    "ctypes.windll.*": ("native-api",),
    "ctypes.cdll.*": ("native-api",),
    "ctypes.CDLL": ("native-api",),
    "ctypes.WinDLL": ("native-api",),
    "ctypes.windll.kernel32.VirtualAlloc*": ("shellcode",),
    "ctypes.windll.kernel32.CreateThread": ("shellcode",),
    "ctypes.windll.kernel32.RtlMoveMemory": ("shellcode",),
    "urllib.request.urlopen": ("network",),
    "urllib.request.urlretrieve": ("network", "download"),
    "urllib.urlopen": ("network",),
    "urllib.urlretrieve": ("network", "download"),
    "urllib2.urlopen": ("network",),
    "urllib.request.Request": ("network",),
    "urllib2.Request": ("network",),
    "requests.get": ("network",),
    "requests.head": ("network",),
    "requests.delete": ("network",),
    "requests.options": ("network",),
    "requests.request": ("network",),
    "requests.Session": ("network",),
    "requests.session": ("network",),
    "requests.api.*": ("network",),
    "requests.post": ("network", "net-send"),
    "requests.put": ("network", "net-send"),
    "requests.patch": ("network", "net-send"),
    "httpx.get": ("network",),
    "httpx.request": ("network",),
    "httpx.stream": ("network",),
    "httpx.Client": ("network",),
    "httpx.AsyncClient": ("network",),
    "httpx.post": ("network", "net-send"),
    "httpx.put": ("network", "net-send"),
    "aiohttp.ClientSession": ("network",),
    "aiohttp.request": ("network",),
    "urllib3.PoolManager": ("network",),
    "urllib3.ProxyManager": ("network",),
    "urllib3.request": ("network",),
    "urllib3.HTTPConnectionPool": ("network",),
    "urllib3.HTTPSConnectionPool": ("network",),
    "urllib3.connection_from_url": ("network",),
    "http.client.HTTPConnection": ("network",),
    "http.client.HTTPSConnection": ("network",),
    "httplib.HTTPConnection": ("network",),
    "httplib.HTTPSConnection": ("network",),
    "pycurl.Curl": ("network",),
    "ftplib.FTP": ("network", "net-send"),
    "ftplib.FTP_TLS": ("network", "net-send"),
    "smtplib.SMTP": ("network", "net-send"),
    "smtplib.SMTP_SSL": ("network", "net-send"),
    "telnetlib.Telnet": ("network",),
    "paramiko.SSHClient": ("network",),
    "paramiko.Transport": ("network",),
    "socket.socket": ("network", "raw-socket"),
    "socket.create_connection": ("network", "raw-socket"),
    "socket.gethostbyname": ("dns",),
    "socket.getaddrinfo": ("dns",),
    "dns.resolver.*": ("dns",),
    "webbrowser.open*": ("open-browser",),
    "socket.gethostname": ("recon",),
    "socket.getfqdn": ("recon",),
    "platform.node": ("recon",),
    "platform.uname": ("recon",),
    "getpass.getuser": ("recon",),
    "os.getlogin": ("recon",),
    "os.uname": ("recon",),
    "os.getcwd": ("recon-weak",),
    "os.getuid": ("recon-weak",),
    "pwd.getpwuid": ("recon",),
    "uuid.getnode": ("recon",),
    "os.chmod": ("chmod",),
    "os.remove": ("file-delete",),
    "os.unlink": ("file-delete",),
    "shutil.rmtree": ("file-delete",),
    "threading.Thread": ("thread",),
    "threading.Timer": ("thread",),
    "_thread.start_new_thread": ("thread",),
    "thread.start_new_thread": ("thread",),
    "sys.executable": (),
    "shutil.copy*": ("file-write",),
    "winreg.SetValue*": ("registry-write",),
    "_winreg.SetValue*": ("registry-write",),
    "win32crypt.CryptUnprotectData": ("browser-secrets",),
    "*.CryptUnprotectData": ("browser-secrets",),
    "browser_cookie3.*": ("browser-secrets",),
    "pyperclip.*": ("clipboard",),
    "PIL.ImageGrab.grab": ("screenshot",),
    "pyautogui.screenshot": ("screenshot",),
    "pynput.keyboard.*": ("keylogger",),
    "keyboard.on_*": ("keylogger",),
    "os.environ.items": ("env-all",),
    "os.environ.__str__": ("env-all",),
    "os.environ.__repr__": ("env-all",),
    "os.environ.keys": ("env-all",),
    "os.environ.values": ("env-all",),
    "json.dumps": (),
    "pip.main": ("pip-install",),
    "pip._internal.main": ("pip-install",),
    "site.addsitedir": (),
}

# Regexes over every (folded) string constant. These carry intent, not capability.
STRING_SIGNALS: tuple[tuple[str, str], ...] = (
    # exfiltration sinks
    (
        "exfil-endpoint",
        r"discord(?:app)?\.com/api/webhooks|api\.telegram\.org/bot"
        r"|webhook\.site|pipedream\.net|\bngrok(?:-free)?\.(?:io|app|dev)"
        r"|\boast\.(?:pro|live|site|online|fun|me)|interact\.sh|burpcollaborator"
        r"|requestbin|canarytokens|dnslog\.cn|ceye\.io|\.requestcatcher\.com"
        r"|hookbin\.com|beeceptor\.com|transfer\.sh|anonfiles\.com|file\.io/"
        r"|pastebin\.com/raw|paste\.ee/r|hastebin|ghostbin|rentry\.co"
        r"|\bngrok\b|serveo\.net|localhost\.run|trycloudflare\.com"
        r"|\bbin\.webhook|eo[a-z0-9]{10,}\.m\.pipedream|pythonanywhere\.com/"
        r"|herokuapp\.com/|\.repl\.co\b|glitch\.me|mockapi\.io|oastify\.com"
        r"|\.free\.beeceptor|requestinspector|hookdeck\.com|\.ngrok\."
        r"|hooks\.slack\.com/services/|iplogger\.(?:com|org|ru|co)|grabify\.link"
        r"|\b2no\.co/|\byip\.su/|blasze\.(?:com|tk)|ps3cfw\.com/|iplis\.ru",
    ),
    # the sinks that only ever collect what is sent to them: a webhook with its id and
    # token written out, a bot token, a request catcher (not a tunnel or a host)
    (
        "exfil-sink",
        r"discord(?:app)?\.com/api/webhooks/\d{6,}/[\w-]{20,}"
        r"|api\.telegram\.org/bot\d{6,}:[\w-]{30,}|^\d{8,10}:AA[\w-]{33}$"
        r"|hooks\.slack\.com/services/T\w+/B\w+/\w+|webhook\.site/[\w-]{8,}"
        r"|\w\.m\.pipedream\.net|\boast\.(?:pro|live|site|online|fun|me)\b"
        r"|\binteract\.sh\b|burpcollaborator\.net|oastify\.com|requestbin\."
        r"|canarytokens\.com|dnslog\.cn|\.ceye\.io|requestcatcher\.com"
        r"|hookbin\.com|requestinspector\.com|iplogger\.(?:com|org|ru|co)"
        r"|grabify\.link",
    ),
    (
        "payload-host",
        r"cdn\.discordapp\.com/attachments|media\.discordapp\.net/attachments"
        r"|dropbox\.com/s/|dl\.dropboxusercontent|mediafire\.com/|anonfiles"
        r"|transfer\.sh|gofile\.io|catbox\.moe|filebin\.net|pastebin\.com/raw"
        r"|paste\.ee/r|rentry\.co/\w+/raw|\.onion\b|bitbucket\.org/[^/]+/[^/]+/downloads"
        r"|github\.com/[^/]+/[^/]+/releases/download/[^\"']*\.(?:exe|scr|zip|bin)"
        r"|/raw/[^\"']*\.(?:exe|scr|ps1|bat|vbs)\b",
    ),
    # (169.254/16 is link-local: the cloud metadata service, which monitoring agents ask)
    (
        "exfil-endpoint",
        r"^https?://(?!(?:127|10|0)\.|192\.168\.|169\.254\.|172\.(?:1[6-9]|2\d|3[01])\.)"
        r"(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?(?:/|$)",
    ),
    # a public address: loopback, private and broadcast ranges say nothing
    (
        "ip-literal",
        r"^(?!(?:127|10|0)\.|192\.168\.|169\.254\.|172\.(?:1[6-9]|2\d|3[01])\.|255\.)"
        r"(?:\d{1,3}\.){3}\d{1,3}$",
    ),
    (
        "recon",
        r"^\s*(?:hostname|whoami|id|uname(?: -a)?|pwd|ifconfig|ipconfig(?: /all)?|systeminfo"
        r"|net user|cat /etc/passwd|ls -la)\s*$",
    ),
    (
        "recon",
        r"ipinfo\.io|api\.ipify\.org|ifconfig\.me|icanhazip\.com|ip-api\.com"
        r"|checkip\.amazonaws|ipapi\.co|myexternalip|wtfismyip|ident\.me",
    ),
    (
        "embedded-exec",
        r"(?:exec|eval)\s*\([^\n]{0,200}(?:urlopen|requests\.get|b64decode"
        r"|decompress|fromhex|marshal\.loads|\.read\(\))",
    ),
    # Campaign indicators (torchtriton, litellm, Shai-Hulud ...) are the regex rule
    # WS-IOC-001 in rules/, not a signal here: one place for them, and the scanner's own
    # source then carries no indicator a text rule could trip over.
    # credentials and secrets at rest
    (
        "cred-path",
        r"\.ssh[/\\]+(?:id_|authorized_keys|known_hosts)|\.aws[/\\]+credentials"
        r"|\.kube[/\\]+config|\.docker[/\\]+config\.json|\.npmrc|\.pypirc"
        r"|\.git-credentials|/etc/shadow|\.gnupg|\.netrc\b|\.config[/\\]+gcloud"
        r"|\.azure[/\\]|\.bash_history|\.zsh_history|id_rsa|id_ed25519"
        r"|keychain-db|\.env\b(?!iron)",
    ),
    ("cred-path-weak", r"/etc/passwd|\.gitconfig|/etc/hosts\b"),
    (
        "browser-secrets",
        r"Login Data|Local State|Web Data|Cookies\b|encrypted_key"
        r"|Local Storage[/\\]+leveldb|CryptUnprotectData|os_crypt"
        r"|[/\\]User Data[/\\]|Mozilla[/\\]+Firefox[/\\]+Profiles|logins\.json"
        r"|key[34]\.db",
    ),
    (
        "wallet",
        r"seed[ _-]?phrase|Exodus|Electrum|atomic[/\\]Local Storage"
        r"|Ethereum[/\\]keystore|wallet\.dat"
        r"|nkbihfbeogaeaoehlefnkodbefgpgknn|Metamask|Coinomi|Guarda|Armory|Jaxx",
    ),
    (
        "discord-token",
        r"discord(?:canary|ptb)?[/\\]|dQw4w9WgXcQ|mfa\\?\.[\w-]{10,}"
        r"|\[\\w-\]\{24\}|discord\.com/api/v\d+/users/@me",
    ),
    (
        "secret-env",
        r"^(?:AWS_(?:ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)|GITHUB_TOKEN"
        r"|GH_TOKEN|NPM_TOKEN|PYPI_TOKEN|PYPI_API_TOKEN|TWINE_PASSWORD|HF_TOKEN"
        r"|HUGGING_FACE_HUB_TOKEN|WANDB_API_KEY|OPENAI_API_KEY|ANTHROPIC_API_KEY"
        r"|AZURE_CLIENT_SECRET|GOOGLE_APPLICATION_CREDENTIALS|ACTIONS_RUNTIME_TOKEN"
        r"|ACTIONS_ID_TOKEN_REQUEST_TOKEN|CI_JOB_TOKEN)$",
    ),
    # what a dropper runs
    (
        "shell-download",
        r"(?:curl|wget)\b[^|;&]*(?:\|\s*(?:ba|z|da)?sh\b|-o\s|-O\b|--output)"
        r"|Invoke-WebRequest|\biwr\s+-?\w*\s*['\"]?https?:|Invoke-Expression"
        r"|\biex\s*\(|\|\s*iex\b|\.DownloadString\(|\.DownloadFile\(|Net\.WebClient"
        r"|Start-BitsTransfer"
        r"|certutil(?:\.exe)?\s+-urlcache|bitsadmin\s+/transfer|mshta\s+http"
        r"|-EncodedCommand|powershell(?:\.exe)?\s+-e(?:nc?)?\s|FromBase64String"
        r"|\b(?:wget|curl)(?:\.exe)?\s+(?:-{1,2}[\w-]+(?:[= ]\S+)?\s+)*['\"]?https?://",
    ),
    (
        "hidden-window",
        r"-WindowStyle\s+Hidden|-w\s+hidden\b|\bnohup\b|>\s*/dev/null\s*2>&1\s*&"
        r"|\bstart\s+/b\b|pythonw(?:\.exe)?\b|CREATE_NO_WINDOW|DETACHED_PROCESS",
    ),
    (
        "exe-drop",
        r"\.(?:exe|scr|bat|vbs|ps1|dll|hta)$|%TEMP%|\\AppData\\|AppData[/\\]+Roaming"
        r"|^/tmp/[\w.-]+$|Start Menu[/\\]+Programs[/\\]+Startup",
    ),
    (
        "user-profile",
        r"^(?:APPDATA|LOCALAPPDATA|USERPROFILE|HOMEPATH)$|Start Menu"
        r"|Quick Launch|[/\\]Extensions?[/\\]|background\.js|%APPDATA%|%USERPROFILE%",
    ),
    (
        "persistence",
        r"CurrentVersion\\+Run|LaunchAgents|\.ssh[/\\]+authorized_keys"
        r"|\.config/systemd/user|crontab\s"
        r"|/etc/cron|\.bashrc|\.zshrc|\.profile\b|schtasks|Startup[/\\]"
        r"|autostart|sysmon\.(?:py|service)",
    ),
    (
        "miner",
        r"xmrig|stratum\+(?:tcp|ssl)|cryptonight|--donate-level|minexmr|nanopool"
        r"|supportxmr|moneroocean|nicehash|\bxmr\b|randomx",
    ),
    (
        "js-runtime",
        r"bun\.sh/install|oven-sh/bun|bun-v?\d|nodejs\.org/dist|\bbun\s+(?:run\s+)?"
        r"\S+\.js|\bnode\s+\S+\.js|setup_bun\.js|bun_environment\.js"
        r"|router_runtime\.js",
    ),
    (
        "ci-abuse",
        r"\.github/workflows|actions/runners/registration-token"
        r"|/repos/[^\"']*/contents/\.github|discussion\.ya?ml",
    ),
    (
        "self-publish",
        r"npm\s+publish|registry\.npmjs\.org/-/|upload\.pypi\.org/legacy"
        r"|twine\s+upload",
    ),
    ("secret-scanner", r"trufflehog|gitleaks|trufflesecurity"),
    (
        "reverse-shell",
        r"/bin/(?:ba)?sh\s+-i|/dev/tcp/|\bnc\s+-e\b|ncat\s+-e|socat\s+exec"
        r"|pty\.spawn",
    ),
    (
        "sandbox-evasion",
        r"\bVBOX|vmware|wireshark|\bx64dbg\b|ollydbg|processhacker"
        r"|sandboxie|fiddler|httpdebugger",
    ),
    ("ransom", r"your files (?:have been|are) encrypted|bitcoin address"),
    ("http-url", r"https?://"),
)

DECODER_NAMES = {
    "base64.b64decode",
    "base64.b32decode",
    "base64.b16decode",
    "base64.b85decode",
    "base64.a85decode",
    "base64.decodebytes",
    "base64.decodestring",
    "base64.urlsafe_b64decode",
    "base64.standard_b64decode",
    "binascii.a2b_base64",
    "binascii.unhexlify",
    "binascii.a2b_hex",
    "codecs.decode",
    "zlib.decompress",
    "lzma.decompress",
    "bz2.decompress",
    "gzip.decompress",
    "bytes.fromhex",
    "marshal.loads",
}

STRUCTURAL_SIGNALS = (
    "exec-decoded",  # exec/eval/compile of decoded or decrypted data
    "exec-remote",  # exec/eval of something fetched from the network
    "exec-dynamic",  # exec/eval of a non-literal, non-decoded value
    "exec-literal",  # exec of a constant string of code
    "nested-decode",  # two or more decoders stacked
    "daemon-thread",  # a thread or process started as a daemon
    "silenced-output",  # a child process whose output goes to DEVNULL / a hidden window
    "spawn-python",  # a child process running sys.executable / python on a file
    "spawn-bundled",  # a child process on a file shipped next to the module
    "env-all",  # the whole os.environ (copied, serialised, iterated)
    "env-secret-read",  # os.environ / getenv of a secret-looking name
    "write-exec",  # chmod +x or executing a file just written / downloaded
    "large-blob",  # a string/bytes literal over 2 KB of base64/hex-looking text
    "obfuscated-names",  # getattr with folded names, chr() chains, builtins tricks
    "builtins-access",  # __builtins__ / builtins module used to reach exec/eval
    "decoded-source",  # code that came out of a decoded literal payload
    "writes-file",  # open(..., "w"/"wb"/"a")
    "pip-install",  # pip install at runtime (subprocess or pip.main)
    "spawn-js",  # a child process given a .js file
    "remote-command",  # a child process whose command line was read from a socket / URL
    "decoded-intent",  # a decoded literal that names an intent (a download command, a webhook)
    "spawn-decoded",  # a child process whose command line is decoded from a literal
    "written-code",  # Python source that the code writes to a file (then runs, usually)
    "run-written",  # a child process (or startfile) on a file the same code wrote
    "python-stdin",  # a Python child process that reads its program from a pipe
    "recon-command",  # a child process that only looks around (whoami, uname -a, ls /, dir)
    "embedded-binary",  # a bytes literal that is an ELF / PE / Mach-O program
)

DECODED_INTENTS = frozenset(
    {
        "shell-download",
        "hidden-window",
        "payload-host",
        "exfil-endpoint",
        "reverse-shell",
        "miner",
        "cred-path",
        "browser-secrets",
        "wallet",
        "discord-token",
        "persistence",
        "recon",
        "exe-drop",
        "secret-env",
    }
)
"""Intents that mean more when someone took the trouble to encode them: a base64 string
that decodes to `powershell -w hidden ...` or to a webhook URL is hidden on purpose."""

SIGNALS: frozenset[str] = frozenset(
    {s for sigs in CALL_SIGNALS.values() for s in sigs}
    | {name for name, _ in STRING_SIGNALS}
    | set(STRUCTURAL_SIGNALS)
)
"""The closed vocabulary that `python-ast` rules may name."""

_CASE_SENSITIVE = {"secret-env", "ip-literal"}
_STRING_RES = tuple(
    (name, re.compile(pattern) if name in _CASE_SENSITIVE else re.compile(pattern, re.IGNORECASE))
    for name, pattern in STRING_SIGNALS
)
# One pass that rejects the (vast) majority of strings which match no intent regex.
_ANY_STRING_RE = re.compile("|".join(f"(?:{p})" for _, p in STRING_SIGNALS), re.IGNORECASE)
_BLOB_RE = re.compile(rb"^[A-Za-z0-9+/=_\-\s]{2048,}$")


@lru_cache(maxsize=65536)
def _string_signals_cached(sample: str) -> tuple[tuple[str, str], ...]:
    if _ANY_STRING_RE.search(sample) is None:
        return ()
    out = []
    for name, rx in _STRING_RES:
        m = rx.search(sample)
        if m:
            out.append((name, m.group(0)[:120]))
    return tuple(out)


_REGEX_SYNTAX = re.compile(
    r"\(\?[:=!<P]|\\\.[A-Za-z]|\\b(?![A-Za-z])|\\[ds][+*{?]|\[\^|\[[^\]]*\\\\\]"
)


def string_signals(text: str) -> list[tuple[str, str]]:
    """(signal, matched text) for every intent regex that matches `text`."""
    return list(_string_signals_cached(text if len(text) <= 50_000 else text[:50_000]))


def _matches(pattern: str, name: str) -> bool:
    if pattern.startswith("*") and pattern.endswith("*") and len(pattern) > 2:
        return pattern[1:-1] in name
    if pattern.startswith("*."):
        return name.endswith(pattern[1:]) or name == pattern[2:]
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return name == pattern


_PATTERN_ROOTS = {p.split(".")[0].rstrip("*") for p in CALL_SIGNALS if not p.startswith("*")}
_STAR_PATTERNS = tuple(p for p in CALL_SIGNALS if p.startswith("*"))


@lru_cache(maxsize=65536)
def call_signals(qualname: str) -> tuple[str, ...]:
    """Signals a call to `qualname` carries."""
    root = qualname.split(".", 1)[0]
    candidates: Iterable[str] = CALL_SIGNALS if root in _PATTERN_ROOTS else _STAR_PATTERNS
    out: list[str] = []
    for pattern in candidates:
        if _matches(pattern, qualname):
            out.extend(s for s in CALL_SIGNALS[pattern] if s not in out)
    return tuple(out)


# --------------------------------------------------------------------------- folding


class _Unknown:
    """Marker for a value the folder could not compute."""


UNKNOWN = _Unknown()
Value = str | bytes | int | list[object] | _Unknown


def _decode_bytes(name: str, data: bytes | str, extra: list[object]) -> str | bytes | _Unknown:
    """Run one decoder on a literal, in memory, bounded. Never runs code."""
    raw = data.encode("latin-1", "ignore") if isinstance(data, str) else data
    if len(raw) > MAX_FOLD:
        return UNKNOWN
    try:
        if name in (
            "base64.b64decode",
            "base64.decodebytes",
            "base64.decodestring",
            "base64.standard_b64decode",
            "binascii.a2b_base64",
        ):
            return base64.b64decode(raw + b"=" * (-len(raw.strip()) % 4))
        if name == "base64.urlsafe_b64decode":
            return base64.urlsafe_b64decode(raw + b"=" * (-len(raw.strip()) % 4))
        if name == "base64.b32decode":
            return base64.b32decode(raw)
        if name == "base64.b16decode":
            return base64.b16decode(raw, casefold=True)
        if name == "base64.b85decode":
            return base64.b85decode(raw)
        if name == "base64.a85decode":
            return base64.a85decode(raw)
        if name in ("binascii.unhexlify", "binascii.a2b_hex", "bytes.fromhex"):
            return bytes.fromhex(raw.decode("ascii", "ignore").replace(" ", ""))
        if name in ("zlib.decompress", "gzip.decompress"):
            d = zlib.decompressobj(47)  # 47: accept zlib and gzip headers
            return d.decompress(raw, MAX_FOLD)
        if name == "lzma.decompress":
            return lzma.LZMADecompressor().decompress(raw, MAX_FOLD)
        if name == "bz2.decompress":
            return bz2.BZ2Decompressor().decompress(raw, MAX_FOLD)
        if name == "codecs.decode":
            enc = extra[0] if extra and isinstance(extra[0], str) else "utf-8"
            enc = enc.lower().replace("-", "_")
            if enc in ("rot13", "rot_13"):
                text = data if isinstance(data, str) else data.decode("latin-1")
                return codecs.decode(text, "rot13")
            if enc in ("base64", "hex", "zlib", "bz2", "base_64", "hex_codec", "zlib_codec"):
                return codecs.decode(raw, enc)
            return raw.decode(enc, "replace")
    except (
        ValueError,
        TypeError,
        binascii.Error,
        lzma.LZMAError,
        OSError,
        zlib.error,
        LookupError,
        EOFError,
    ):
        return UNKNOWN
    return UNKNOWN


def _as_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return None


# --------------------------------------------------------------------------- the visitor


_SETUP_HOOK_BASES = (
    "install",
    "develop",
    "egg_info",
    "build_py",
    "build_ext",
    "sdist",
    "bdist_egg",
    "bdist_wheel",
    "build",
    "install_lib",
    "install_scripts",
    "Command",
)


_BUILTIN_FUNCTIONS = frozenset(
    {
        "abs",
        "all",
        "any",
        "ascii",
        "bin",
        "callable",
        "chr",
        "compile",
        "delattr",
        "dir",
        "divmod",
        "eval",
        "exec",
        "format",
        "getattr",
        "globals",
        "hasattr",
        "hash",
        "hex",
        "id",
        "input",
        "isinstance",
        "issubclass",
        "iter",
        "len",
        "locals",
        "max",
        "min",
        "next",
        "oct",
        "open",
        "ord",
        "pow",
        "print",
        "repr",
        "round",
        "setattr",
        "sorted",
        "sum",
        "vars",
        "__import__",
        "breakpoint",
        "aiter",
        "anext",
    }
)
_VISITORS: dict[type, Callable[[_Analyzer, ast.AST], None]] = {}
_RECON_COMMAND = re.compile(
    r"^\s*(?:whoami|id|hostname|uname(?:\s+-a)?|ls(?:\s+-\w+)*\s+/|dir|ipconfig(?:\s+/all)?|ifconfig"
    r"|systeminfo|tasklist|net\s+user|cat\s+/etc/passwd|env|printenv|calc(?:\.exe)?)\s*$",
    re.IGNORECASE,
)
"""A whole command line that only looks around (or opens the calculator: the classic
proof that code ran)."""
_DOWNLOAD_THEN_RUN = re.compile(
    r"(?:curl|wget|Invoke-WebRequest|iwr)\b[^;&|\n]*?(?:\s-o|\s-O|--output(?:-document)?|-OutFile)"
    r"[\s=]*['\"]?(?P<file>[^\s'\"]{2,})['\"]?[^\n]*?(?:&&|;|\|\||\n)\s*"
    r"(?:start\s+(?:/b\s+)?|nohup\s+|sh\s+|bash\s+|chmod\s+\+?[0-7x]+\s+|python\S*\s+|\./|)"
    r"['\"]?(?P=file)",
    re.IGNORECASE,
)
"""A shell command that downloads a file and then runs that same file."""
_CALLBACK_SINKS = frozenset(
    {
        "Timer",
        "submit",
        "apply_async",
        "map_async",
        "run_in_executor",
        "call_soon",
        "call_later",
        "start_new_thread",
        "start_new",
        "Process",
        "Thread",
    }
)
_DOWNLOAD_TOOL = re.compile(r"\b(?:curl|wget|Invoke-WebRequest|iwr)\b", re.IGNORECASE)
_FILE_TOOLS = frozenset(
    {
        "tar",
        "unzip",
        "7z",
        "7za",
        "gzip",
        "gunzip",
        "xz",
        "unxz",
        "bunzip2",
        "zstd",
        "cp",
        "mv",
        "rm",
        "ln",
        "mkdir",
        "file",
        "sha256sum",
        "sha1sum",
        "md5sum",
        "shasum",
        "git",
        "patch",
        "hdiutil",
        "cat",
        "ls",
        "du",
        "stat",
        "touch",
    }
)


class _Analyzer(ast.NodeVisitor):
    """Walks one module, collecting hits per unit, folding constants as it goes."""

    def __init__(
        self,
        result: Analysis,
        depth: int,
        line_offset: int,
        unit_prefix: str,
        analyse_source: Callable[[str, int, int, str, Analysis], None],
    ) -> None:
        self.result = result
        self.depth = depth
        self.line_offset = line_offset
        self.unit_prefix = unit_prefix
        self.analyse_source = analyse_source
        self.aliases: dict[str, str] = {}
        self.consts: dict[str, Value] = {}
        self.assigned: dict[str, ast.AST] = {}
        self.unit_stack: list[str] = [unit_prefix + "<module>"]
        self.class_stack: list[str] = []
        self.calls_from: dict[str, set[str]] = {}
        self.defined: dict[str, str] = {}
        self.hook_units: set[str] = set()
        self.decoder_wrappers: dict[str, _DecoderWrapper] = {}
        """Local functions that return a decoder applied to their argument (`def b64d(s):
        return base64.b64decode(s).decode()`, methods, lambdas), by the names they are
        called by."""
        self.decoder_units: set[str] = set()
        self._fold_locals: dict[str, ast.AST] = {}
        self.entry_names: frozenset[str] = frozenset()
        self.written: list[tuple[str, str]] = []
        """(unit, key) for each file the code opens for writing: the path's source text
        and, when it folds, its value."""
        self.spawned: list[tuple[str, ast.AST, str]] = []
        """(unit, node, command text) for each child process or startfile."""
        self.module_names: set[str] = set()
        self.download_units: set[str] = set()
        """Functions that run a command-line download to a file (curl -O, wget -O)."""
        # one level of calls for `run-written`: which parameters a function writes to
        # or runs, whether it returns a path it wrote, and the calls that pass them on
        self.params: list[tuple[str, list[str]]] = []
        self.writes_param: dict[str, set[int]] = {}
        self.spawns_param: dict[str, set[int]] = {}
        self.returns_written: set[str] = set()
        self.call_sites: list[tuple[str, ast.Call, str]] = []
        """Functions another file runs at install time (`from helper import f` in setup.py)."""
        self._seen: set[tuple[str, int, str]] = set()

    # -- bookkeeping -----------------------------------------------------------

    def visit(self, node: ast.AST) -> None:
        method = _VISITORS.get(type(node))
        if method is None:
            method = (
                getattr(type(self), "visit_" + type(node).__name__, None) or _Analyzer.generic_visit
            )
            _VISITORS[type(node)] = method
        method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    @property
    def unit(self) -> str:
        return self.unit_stack[-1]

    def hit(self, signal: str, node: ast.AST | None, evidence: str) -> None:
        line = getattr(node, "lineno", 0) + self.line_offset if node is not None else 0
        key = (signal, line, self.unit)
        if key in self._seen:
            return
        self._seen.add(key)
        self.result.hits.append(Hit(signal, line, evidence[:200], self.unit))

    # -- names -----------------------------------------------------------------

    def qualname(self, node: ast.AST) -> str | None:
        """Resolve a callee / attribute chain to a dotted name through imports and tricks."""
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return self.aliases[node.id]
            if node.id in (
                "exec",
                "eval",
                "compile",
                "__import__",
                "getattr",
                "open",
                "globals",
                "locals",
                "vars",
                "setattr",
                "input",
                "print",
                "chr",
                "ord",
                "bytes",
                "str",
                "map",
                "bytearray",
                "dict",
                "repr",
                "list",
                "tuple",
                "set",
                "type",
                "hasattr",
                "iter",
                "next",
                "zip",
            ):
                return "builtins." + node.id
            if node.id in ("__builtins__", "builtins"):
                return "builtins"
            return node.id
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            if base is None:
                return None
            if base == "builtins" and node.attr == "__dict__":
                return "builtins"
            return f"{base}.{node.attr}"
        if isinstance(node, ast.Call):
            callee = self.qualname(node.func)
            if callee in ("builtins.__import__", "importlib.import_module") and node.args:
                mod = self.fold(node.args[0])
                if isinstance(mod, str):
                    if mod == "builtins" or mod == "__builtin__":
                        self.hit("builtins-access", node, f"__import__({mod!r})")
                        return "builtins"
                    return mod
            if callee == "builtins.getattr" and len(node.args) >= 2:
                attr = self.fold(node.args[1])
                if isinstance(attr, str):
                    base = self.qualname(node.args[0])
                    if not isinstance(node.args[1], ast.Constant):
                        self.hit("obfuscated-names", node, f"getattr(..., {attr!r})")
                    if base is not None:
                        return f"{base}.{attr}"
            if callee in ("builtins.globals", "builtins.locals", "builtins.vars"):
                return "<namespace>"
            if callee == "builtins.get" and node.args:
                # globals()["__builtins__"].get("exec")
                key = self.fold(node.args[0])
                if isinstance(key, str) and key.isidentifier():
                    if not isinstance(node.args[0], ast.Constant):
                        self.hit("obfuscated-names", node, f"builtins looked up as {key!r}")
                    return "builtins." + key
            if callee is not None and callee.endswith("Fernet"):
                return callee
            return None
        if isinstance(node, ast.Subscript):
            base = self.qualname(node.value)
            key = self.fold(node.slice)
            if base in ("<namespace>", "builtins", "builtins.__dict__") and isinstance(key, str):
                if key == "__builtins__":
                    if not isinstance(node.slice, ast.Constant):
                        self.hit("builtins-access", node, "__builtins__ reached by a computed name")
                        self.hit("obfuscated-names", node, "__builtins__ spelled out")
                    return "builtins"
                return (
                    ("builtins." + key)
                    if base != "<namespace>"
                    else self.qualname(ast.Name(id=key))
                )
        return None

    # -- folding ---------------------------------------------------------------

    def fold(self, node: ast.AST | None, budget: int = 200) -> Value:
        """The constant value of an expression, or UNKNOWN."""
        if node is None or budget <= 0:
            return UNKNOWN
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, (str, bytes)) or (isinstance(v, int) and not isinstance(v, bool)):
                return v
            return UNKNOWN
        if isinstance(node, ast.Name):
            value = self.consts.get(node.id, UNKNOWN)
            if isinstance(value, _Unknown) and node.id in self._fold_locals:
                return self.fold(self._fold_locals[node.id], budget - 5)
            return value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Invert)):
            operand = self.fold(node.operand, budget - 1)
            if isinstance(operand, int):
                if isinstance(node.op, ast.USub):
                    return -operand
                return operand if isinstance(node.op, ast.UAdd) else ~operand
            return UNKNOWN
        if isinstance(node, ast.JoinedStr):
            parts = []
            for piece in node.values:
                part = self.fold(
                    piece.value if isinstance(piece, ast.FormattedValue) else piece, budget - 1
                )
                if isinstance(part, (str, int)):
                    parts.append(str(part))
                else:
                    parts.append("{}")
            return "".join(parts)
        if isinstance(node, ast.BinOp):
            left = self.fold(node.left, budget - 1)
            right = self.fold(node.right, budget - 1)
            try:
                if (
                    isinstance(node.op, ast.Add)
                    and type(left) is type(right)
                    and isinstance(left, (str, bytes, int, list))
                ):
                    out = left + right  # type: ignore[operator]
                elif (
                    isinstance(node.op, ast.Mult)
                    and isinstance(right, int)
                    and isinstance(left, (str, bytes))
                    and len(left) * right <= MAX_FOLD
                ):
                    out = left * right
                elif (
                    isinstance(left, int)
                    and isinstance(right, int)
                    and abs(left) < 1 << 64
                    and abs(right) < 1 << 64
                ):
                    out = _int_op(node.op, left, right)
                else:
                    return UNKNOWN
            except (TypeError, ValueError, ZeroDivisionError, OverflowError):
                return UNKNOWN
            if isinstance(out, (str, bytes, list)) and len(out) > MAX_FOLD:
                return UNKNOWN
            return out
        if isinstance(node, (ast.List, ast.Tuple)):
            if len(node.elts) > 100_000:
                return UNKNOWN
            items = [self.fold(e, budget - 1) for e in node.elts]
            return items  # type: ignore[return-value]
        if isinstance(node, ast.Subscript):
            base = self.fold(node.value, budget - 1)
            if isinstance(base, (str, bytes)) and isinstance(node.slice, ast.Slice):
                sl = node.slice
                lo = self.fold(sl.lower) if sl.lower else None
                hi = self.fold(sl.upper) if sl.upper else None
                st = self.fold(sl.step) if sl.step else None
                if all(x is None or isinstance(x, int) for x in (lo, hi, st)) and st != 0:
                    return base[slice(lo, hi, st)]  # type: ignore[arg-type]
            if isinstance(base, (str, list)) and not isinstance(node.slice, ast.Slice):
                index = self.fold(node.slice, budget - 1)
                if isinstance(index, int) and -len(base) <= index < len(base):
                    return base[index]  # type: ignore[return-value]
            return UNKNOWN
        if isinstance(node, ast.Call):
            return self.fold_call(node, budget - 1)
        return UNKNOWN

    def fold_call(self, node: ast.Call, budget: int) -> Value:
        func = node.func
        if isinstance(func, ast.Name) and isinstance(self.assigned.get(func.id), ast.Attribute):
            # `_ = "".join` then `_([...])`
            bound = self.assigned[func.id]
            if (
                isinstance(bound, ast.Attribute)
                and bound.attr == "join"
                and isinstance(bound.value, ast.Constant)
            ):
                func = bound
        # "".join(...)
        if isinstance(func, ast.Attribute) and func.attr == "join" and len(node.args) == 1:
            sep = self.fold(func.value, budget)
            items = self._fold_iterable(node.args[0], budget)
            if (
                isinstance(sep, str)
                and isinstance(items, list)
                and all(isinstance(i, str) for i in items)
            ):
                return sep.join(items)  # type: ignore[arg-type]
            if (
                isinstance(sep, bytes)
                and isinstance(items, list)
                and all(isinstance(i, bytes) for i in items)
            ):
                return sep.join(items)  # type: ignore[arg-type]
            return UNKNOWN
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("decode", "encode")
            and self.qualname(func) not in DECODER_NAMES
            and self.qualname(func) != "codecs.encode"
        ):
            base = self.fold(func.value, budget)
            enc = self.fold(node.args[0], budget) if node.args else "utf-8"
            if func.attr == "decode" and isinstance(base, bytes):
                if isinstance(enc, str) and enc.lower() in ("hex", "base64", "zlib", "rot13"):
                    return _decode_bytes("codecs.decode", base, [enc])
                return base.decode("utf-8", "replace")
            if func.attr == "encode" and isinstance(base, str):
                if isinstance(enc, str) and enc.lower() in ("rot13", "rot_13"):
                    return codecs.encode(base, "rot13")
                return base.encode("utf-8", "replace")
            return UNKNOWN
        if isinstance(func, ast.Attribute) and func.attr in (
            "replace",
            "strip",
            "lower",
            "upper",
            "lstrip",
            "rstrip",
        ):
            base = self.fold(func.value, budget)
            args = [self.fold(a, budget) for a in node.args]
            if isinstance(base, (str, bytes)) and all(type(a) is type(base) for a in args):
                try:
                    return getattr(base, func.attr)(*args)  # type: ignore[no-any-return]
                except (TypeError, ValueError):
                    return UNKNOWN
            return UNKNOWN
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("__str__", "__repr__")
            and not node.args
            and isinstance(func.value, ast.Name)
        ):
            # `oct.__str__()[-3]`: builtins spelled out to build names character by character
            builtin = func.value.id
            if builtin in ("copyright", "credits", "license"):
                return {
                    "copyright": "Copyright (c) 2001-2023 Python Software Foundation.",
                    "credits": "    Thanks to CWI, CNRI, BeOpen.com, Zope Corporation",
                    "license": "Type license() to see the full license text",
                }[builtin]
            if builtin in _BUILTIN_FUNCTIONS and builtin not in self.aliases:
                return f"<built-in function {builtin}>"
            return UNKNOWN
        name = self.qualname(func)
        if name is None:
            return UNKNOWN
        if name == "builtins.chr" and node.args:
            v = self.fold(node.args[0], budget)
            if isinstance(v, int) and 0 <= v < 0x110000:
                return chr(v)
            return UNKNOWN
        if name in ("builtins.bytes", "builtins.bytearray") and node.args:
            v = self.fold(node.args[0], budget)
            if isinstance(v, list) and all(isinstance(i, int) and 0 <= i < 256 for i in v):
                return bytes(v)  # type: ignore[arg-type]
            if isinstance(v, str) and len(node.args) > 1:
                return v.encode("utf-8", "replace")
            if isinstance(v, bytes):
                return v
            return UNKNOWN
        if name == "builtins.str" and node.args:
            v = self.fold(node.args[0], budget)
            return v if isinstance(v, str) else UNKNOWN
        if name in self.decoder_wrappers and len(node.args) == 1:
            data = self.fold(node.args[0], budget)
            if isinstance(data, (str, bytes)):
                wrapper = self.decoder_wrappers[name]
                if budget > 20:
                    # evaluate the wrapper's body with its parameter bound to the literal
                    param = wrapper.param
                    saved = (self.consts.get(param, UNKNOWN), self._fold_locals)
                    self.consts[param] = data
                    self._fold_locals = {k: v for k, v in wrapper.local.items() if k != param}
                    try:
                        out = self.fold(wrapper.returns, budget - 10)
                    finally:
                        self.consts[param] = saved[0]
                        self._fold_locals = saved[1]
                    if isinstance(out, (str, bytes)):
                        return out
                out = _decode_bytes(wrapper.decoder, data, [])
                return out.decode("utf-8", "replace") if isinstance(out, bytes) else out
            return UNKNOWN
        if name in DECODER_NAMES and name != "marshal.loads" and node.args:
            data = self.fold(node.args[0], budget)
            extra: list[object] = [self.fold(a, budget) for a in node.args[1:]]
            for kw in node.keywords:
                if kw.arg == "encoding":
                    extra.insert(0, self.fold(kw.value, budget))
            if isinstance(data, (str, bytes)):
                return _decode_bytes(name, data, extra)
        return UNKNOWN

    def _fold_iterable(self, node: ast.AST, budget: int) -> Value:
        if isinstance(node, ast.Call):
            callee = self.qualname(node.func)
            # map(chr, [...]) / map(getattr(__builtins__, "chr"), [...])
            if callee == "builtins.map" and len(node.args) == 2:
                fn = self.qualname(node.args[0])
                items = self.fold(node.args[1], budget)
                if (
                    fn == "builtins.chr"
                    and isinstance(items, list)
                    and all(isinstance(i, int) and 0 <= i < 0x110000 for i in items)
                ):
                    self.hit("obfuscated-names", node, "map(chr, [...])")
                    return [chr(i) for i in items]  # type: ignore[arg-type]
                return UNKNOWN
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)) and len(node.generators) == 1:
            gen = node.generators[0]
            items = self.fold(gen.iter, budget)
            elt = node.elt
            if (
                isinstance(items, list)
                and isinstance(gen.target, ast.Name)
                and not gen.ifs
                and isinstance(elt, ast.Call)
                and self.qualname(elt.func) == "builtins.chr"
            ):
                arg = elt.args[0] if elt.args else None
                if (
                    isinstance(arg, ast.Name)
                    and arg.id == gen.target.id
                    and all(isinstance(i, int) and 0 <= i < 0x110000 for i in items)
                ):
                    self.hit("obfuscated-names", node, "chr() comprehension")
                    return [chr(i) for i in items]  # type: ignore[arg-type]
            return UNKNOWN
        return self.fold(node, budget)

    # -- taint of names (which decoders / network calls fed a variable) ---------

    def sources_of(self, node: ast.AST, names: set[str] | None = None) -> set[str]:
        """Which decoders / network reads feed an expression (through simple names)."""
        names = set() if names is None else names
        found: set[str] = set()
        stack = [node]
        seen = 0
        while stack and seen < 2000:
            seen += 1
            cur = stack.pop()
            if isinstance(cur, ast.Call):
                q = self.qualname(cur.func)
                if q is not None:
                    sigs = call_signals(q)
                    if "decode" in sigs or q in DECODER_NAMES or q in self.decoder_wrappers:
                        found.add("decode")
                    if "network" in sigs:
                        found.add("network")
                if isinstance(cur.func, ast.Attribute) and cur.func.attr in (
                    "decrypt",
                    "decompress",
                    "b64decode",
                    "fromhex",
                    "unhexlify",
                ):
                    found.add("decode")
                if isinstance(cur.func, ast.Attribute) and cur.func.attr in (
                    "read",
                    "text",
                    "content",
                ):
                    found.add("read")
                if q == "builtins.chr" or (
                    q == "builtins.map"
                    and cur.args
                    and self.qualname(cur.args[0]) == "builtins.chr"
                ):
                    found.add("decode")  # code spelled out one character code at a time
                if isinstance(cur.func, ast.Attribute) and cur.func.attr in (
                    "recv",
                    "recvfrom",
                    "recv_into",
                ):
                    found.add("network")
            elif isinstance(cur, ast.Attribute) and cur.attr in ("text", "content"):
                found.add("network-maybe")
            elif isinstance(cur, ast.BinOp) and isinstance(cur.op, ast.BitXor):
                found.add("decode")  # an XOR cipher over characters or bytes
            elif isinstance(cur, (ast.ListComp, ast.GeneratorExp)) and any(
                isinstance(g.iter, ast.Constant)
                and isinstance(g.iter.value, str)
                and len(g.iter.value) > 40
                for g in cur.generators
            ):
                found.add("decode")  # a substitution cipher, one character at a time
            elif isinstance(cur, ast.Name) and cur.id in self.assigned and cur.id not in names:
                names.add(cur.id)
                found |= self.sources_of(self.assigned[cur.id], names)
            stack.extend(ast.iter_child_nodes(cur))
        return found

    # -- visiting --------------------------------------------------------------

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if a.asname:
                self.aliases[a.asname] = a.name
            else:
                top = a.name.split(".")[0]
                self.aliases.setdefault(top, top)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        mod = node.module or ""
        for a in node.names:
            if a.name == "*":
                continue
            self.aliases[a.asname or a.name] = f"{mod}.{a.name}" if mod else a.name
            if mod in ("builtins", "__builtin__") and a.name in (
                "exec",
                "eval",
                "compile",
                "__import__",
                "getattr",
            ):
                self.hit("builtins-access", node, f"from {mod} import {a.name}")
        self.generic_visit(node)

    def _enter_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        qual = ".".join([*self.class_stack, node.name])
        unit = self.unit_prefix + qual
        self.defined.setdefault(node.name, unit)
        if self.class_stack:
            self.defined.setdefault(f"{self.class_stack[-1]}.{node.name}", unit)
        for dec in node.decorator_list:
            self.visit(dec)
        self.unit_stack.append(unit)
        self.params.append(
            (
                node.name,
                [
                    a.arg
                    for a in (*node.args.posonlyargs, *node.args.args)
                    if a.arg not in ("self", "cls")
                ],
            )
        )
        saved_consts = dict(self.consts)
        saved_assigned = dict(self.assigned)
        for stmt in node.body:
            self.visit(stmt)
        written_here = {k for u, k in self.written if u == unit}
        if written_here:
            for ret in ast.walk(node):
                if (
                    isinstance(ret, ast.Return)
                    and isinstance(ret.value, ast.Name)
                    and ret.value.id in written_here
                ):
                    self.returns_written.add(node.name)
        self.params.pop()
        # only a function that calls a decoder can be a decoder wrapper (walking every
        # function's body to find out costs a third of the analysis on big packages)
        wrapper = (
            self._wrapped_decoder(node, dict(self.assigned)) if unit in self.decoder_units else None
        )
        if wrapper is not None:
            self.decoder_wrappers[node.name] = wrapper
            if self.class_stack:
                self.decoder_wrappers[f"self.{node.name}"] = wrapper
                self.decoder_wrappers[f"cls.{node.name}"] = wrapper
        self.consts, self.assigned = saved_consts, saved_assigned
        self.unit_stack.pop()

    def _wrapped_decoder(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, local: dict[str, ast.AST]
    ) -> _DecoderWrapper | None:
        """The decoder a small function applies to its first parameter, if that is all
        it does (called while the function's own assignments, `local`, are still known)."""
        param = _first_param(node)
        if len(node.body) > 8 or param is None:
            return None
        returns = [n for stmt in node.body for n in ast.walk(stmt) if isinstance(n, ast.Return)]
        if len(returns) != 1 or returns[0].value is None:
            return None
        returned = returns[0].value
        found: str | None = None
        stack: list[ast.AST] = [returned]
        names: set[str] = set()
        reads_param = False
        while stack:
            cur = stack.pop()
            if isinstance(cur, ast.Call):
                q = self.qualname(cur.func)
                if q in DECODER_NAMES and q != "marshal.loads":
                    found = found or q
                elif q in self.decoder_wrappers:
                    found = found or self.decoder_wrappers[q].decoder
            if isinstance(cur, ast.Name):
                if cur.id == param:
                    reads_param = True
                elif cur.id in self.assigned and cur.id not in names:
                    names.add(cur.id)
                    stack.append(self.assigned[cur.id])
            stack.extend(ast.iter_child_nodes(cur))
        if found is None or not reads_param:
            return None
        return _DecoderWrapper(found, param, returned, local)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._enter_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._enter_function(node)

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (
            len(self.unit_stack) == 1
            and isinstance(test, ast.Compare)
            and isinstance(test.left, ast.Name)
            and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
        ):
            # `if __name__ == "__main__":` runs as a script, never on import
            self.visit(test)
            self.unit_stack.append(self.unit_prefix + "<main>")
            for stmt in node.body:
                self.visit(stmt)
            self.unit_stack.pop()
            for stmt in node.orelse:
                self.visit(stmt)
            return
        self.generic_visit(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = [self.qualname(b) or "" for b in node.bases]
        if any(b.split(".")[-1] in _SETUP_HOOK_BASES for b in bases):
            self.hook_units.add(self.unit_prefix + node.name)
        self.class_stack.append(node.name)
        for b in node.bases:
            self.visit(b)
        for stmt in node.body:
            self.visit(stmt)
        self.class_stack.pop()

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)
        value = self.fold(node.value)
        for target in node.targets:
            if (
                isinstance(target, ast.Tuple)
                and isinstance(node.value, ast.Tuple)
                and len(target.elts) == len(node.value.elts)
            ):
                # `a, b, c = exec, str, map`: names for builtins, dealt out in one line
                renamed: list[str] = []
                for t, v in zip(target.elts, node.value.elts, strict=True):
                    q = self.qualname(v)
                    if isinstance(t, ast.Name) and q is not None and q.startswith("builtins."):
                        self.aliases[t.id] = q
                        if t.id.strip("_").lower() != q.split(".")[-1].strip("_"):
                            renamed.append(q.split(".")[-1])  # not `_dict = dict`
                if len(renamed) >= 3 and set(renamed) & {"exec", "eval", "compile", "__import__"}:
                    self.hit(
                        "obfuscated-names",
                        node,
                        f"{len(renamed)} builtins given other names at once ({renamed[0]}...)",
                    )
            if isinstance(target, ast.Name) and len(self.unit_stack) == 1:
                self.module_names.add(target.id)
            if isinstance(target, ast.Name) and isinstance(node.value, ast.Lambda):
                # `b64d = lambda s: b64decode(s)`
                fake = ast.FunctionDef(
                    name=target.id,
                    args=node.value.args,
                    body=[ast.Return(value=node.value.body)],
                    decorator_list=[],
                    returns=None,
                )
                wrapper = self._wrapped_decoder(fake, {})
                if wrapper is not None:
                    self.decoder_wrappers[target.id] = wrapper
            if isinstance(target, ast.Name):
                if not isinstance(value, _Unknown):
                    self.consts[target.id] = value
                    self._note_constant(value, node)
                else:
                    self.consts.pop(target.id, None)
                self.assigned[target.id] = node.value
                # `x = __import__("os")` / `e = eval` make aliases
                q = self.qualname(node.value)
                if q is not None and (
                    q == "builtins"
                    or q.startswith(
                        (
                            "builtins.",
                            "os",
                            "subprocess",
                            "base64",
                            "zlib",
                            "marshal",
                            "socket",
                            "urllib",
                            "requests",
                        )
                    )
                ):
                    self.aliases[target.id] = q
            elif isinstance(target, ast.Attribute) and target.attr == "daemon":
                v = node.value
                if isinstance(v, ast.Constant) and v.value is True:
                    self.hit("daemon-thread", node, ".daemon = True")

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.generic_visit(node)
        if isinstance(node.target, ast.Name):
            name = node.target.id
            # `s += chr(ord(c) ^ k)` in a loop: what the name holds comes from both
            previous = self.assigned.get(name)
            self.assigned[name] = ast.Tuple(
                elts=[e for e in (previous, node.value) if isinstance(e, ast.expr)], ctx=ast.Load()
            )
            self.consts.pop(name, None)

    def _note_constant(self, value: Value, node: ast.AST) -> None:
        """A folded constant assigned to a name: look at it as a string."""
        if isinstance(value, (str, bytes)) and not isinstance(node, ast.Constant):
            self._string(value, node, folded=True)

    def _visit_literal_container(self, node: ast.List | ast.Tuple | ast.Set) -> None:
        # data tables (parser tables, unicode maps) are large: look at their strings only
        if len(node.elts) > 16 and all(isinstance(e, ast.Constant) for e in node.elts):
            for e in node.elts:
                if isinstance(e, ast.Constant) and isinstance(e.value, (str, bytes)):
                    self.visit_Constant(e)
            return
        self.generic_visit(node)

    def visit_List(self, node: ast.List) -> None:
        self._visit_literal_container(node)

    def visit_Tuple(self, node: ast.Tuple) -> None:
        self._visit_literal_container(node)

    def visit_Set(self, node: ast.Set) -> None:
        self._visit_literal_container(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        if any(self.qualname(v) == "os.environ" for v in node.values[:200]):
            self.hit("env-all", node, "os.environ inside a dict")
        if (
            len(node.values) > 16
            and all(isinstance(e, ast.Constant) for e in node.values)
            and all(isinstance(k, ast.Constant) for k in node.keys)
        ):
            for e in (*node.keys, *node.values):
                if isinstance(e, ast.Constant) and isinstance(e.value, (str, bytes)):
                    self.visit_Constant(e)
            return
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        # a bare string statement (a docstring) is never executed: skip it
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, (str, bytes)):
            self._string(node.value, node, folded=False)

    def _string(
        self, value: str | bytes, node: ast.AST, *, folded: bool, decoded: bool = False
    ) -> None:
        text = _as_text(value)
        if text is None or len(text) < 3:
            return
        if len(text) >= 2048 and _BLOB_RE.match(
            value if isinstance(value, bytes) else text.encode("latin-1", "ignore")
        ):
            self.hit("large-blob", node, f"{len(text)}-character encoded literal")
        if (
            isinstance(value, bytes)
            and len(value) >= 64
            and value[:4] in (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf")
        ) or (isinstance(value, bytes) and value[:2] == b"MZ" and b"PE\0\0" in value[:1024]):
            self.hit("embedded-binary", node, f"{len(value)}-byte program in a literal")
        elif len(text) >= 1000 and text.lstrip("b'\"").startswith(("TVqQ", "TVpQ", "f0VMRg")):
            # base64 of "MZ\x90" (a Windows program) or of "\x7fELF"
            self.hit("embedded-binary", node, f"{len(text)}-character base64 program")
        signals = string_signals(text)
        if not signals or _REGEX_SYNTAX.search(text):
            # A regular expression describes strings (a scanner's own signatures, a URL
            # router); a webhook or a credential path that code really uses is written plain.
            return
        for sig, ev in signals:
            self.hit(sig, node, ev)
            if decoded and sig in DECODED_INTENTS:
                self.hit("decoded-intent", node, f"decodes to {sig}: {ev}")

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        folded = self.fold(node)
        if isinstance(folded, str):
            self._string(folded, node, folded=True)
        for piece in node.values:
            if isinstance(piece, ast.FormattedValue) and self.qualname(piece.value) in (
                "os.environ",
                "os.environ.copy",
                "os.environ.items",
            ):
                self.hit("env-all", node, "os.environ formatted into a string")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        # fold the outermost operation only: folding every level is quadratic
        if not getattr(node, "_ws_folded", False):
            for sub in ast.walk(node):
                if isinstance(sub, ast.BinOp):
                    sub._ws_folded = True  # type: ignore[attr-defined]
            folded = self.fold(node)
            if isinstance(folded, (str, bytes)):
                self._string(folded, node, folded=True)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        q = self.qualname(node)
        if q == "os.environ" and not isinstance(
            getattr(node, "_ws_parent", None), (ast.Subscript, ast.Attribute)
        ):
            pass
        if (
            q is not None
            and q.startswith("builtins.")
            and q.split(".")[-1] in ("exec", "eval", "compile")
            and not isinstance(node.value, ast.Name)
        ):
            self.hit("builtins-access", node, q)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        q = self.qualname(node.value)
        key = self.fold(node.slice)
        if q == "os.environ" and isinstance(key, str):
            for sig, ev in string_signals(key):
                if sig == "secret-env":
                    self.hit("env-secret-read", node, f"os.environ[{ev!r}]")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        q = self.qualname(node.func)
        # call graph (for what runs at import time)
        if isinstance(node.func, ast.Name):
            self.calls_from.setdefault(self.unit, set()).add(node.func.id)
        elif isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            self.calls_from.setdefault(self.unit, set()).add(
                f"{node.func.value.id}.{node.func.attr}"
            )
            if node.func.value.id == "self" and self.class_stack:
                self.calls_from.setdefault(self.unit, set()).add(
                    f"{self.class_stack[-1]}.{node.func.attr}"
                )
        sink = (
            node.func.attr
            if isinstance(node.func, ast.Attribute)
            else (node.func.id if isinstance(node.func, ast.Name) else "")
        )
        if sink in _CALLBACK_SINKS or q in ("atexit.register", "signal.signal"):
            # a function handed to something that calls it (`atexit.register(f)`,
            # `pool.submit(f)`, `Timer(1, f)`); not a CLI or plugin registry, which only
            # calls it if asked
            for arg in (*node.args, *(k.value for k in node.keywords if k.arg != "target")):
                if isinstance(arg, ast.Name) and arg.id not in self.aliases:
                    self.calls_from.setdefault(self.unit, set()).add(arg.id)
        for kw in node.keywords:
            # Thread(target=f) / Process(target=f): f runs too
            if kw.arg == "target" and isinstance(kw.value, ast.Name):
                self.calls_from.setdefault(self.unit, set()).add(kw.value.id)
            if (
                kw.arg == "target"
                and isinstance(kw.value, ast.Attribute)
                and isinstance(kw.value.value, ast.Name)
                and kw.value.value.id == "self"
                and self.class_stack
            ):
                self.calls_from.setdefault(self.unit, set()).add(
                    f"{self.class_stack[-1]}.{kw.value.attr}"
                )
        callee = (
            node.func.id
            if isinstance(node.func, ast.Name)
            else (node.func.attr if isinstance(node.func, ast.Attribute) else None)
        )
        if callee is not None and node.args and len(self.call_sites) < 10_000:
            self.call_sites.append((self.unit, node, callee))
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr == "join"
            and isinstance(node.func.value, ast.Constant)
            and node.args
            and isinstance(node.args[0], (ast.Call, ast.ListComp, ast.GeneratorExp))
        ):
            # "".join(map(chr, [...])) written inline: fold it to see the string
            joined = self.fold(node)
            if isinstance(joined, str):
                self._string(joined, node, folded=True)
        if q is not None:
            self._call(node, q)
            if q in self.decoder_wrappers:
                self.hit("decode", node, f"{q}(...) (a local decoder)")
            if q in self.decoder_wrappers or q in DECODER_NAMES:
                self.decoder_units.add(self.unit)
            if q in self.decoder_wrappers or (q in DECODER_NAMES and q != "marshal.loads"):
                decoded = self.fold(node)
                if isinstance(decoded, (str, bytes)):
                    self._string(decoded, node, folded=True, decoded=True)
        elif isinstance(node.func, ast.Attribute):
            attr = node.func.attr
            if attr == "decrypt":
                self.hit("decode", node, ".decrypt(...)")
            if attr in ("post", "put") and self._looks_like_http_client(node.func.value):
                self.hit("net-send", node, f".{attr}(...)")
                self.hit("network", node, f".{attr}(...)")
            if attr in ("sendall", "send", "sendto"):
                self.hit("net-send", node, f".{attr}(...)")
            if attr in ("write", "write_text", "write_bytes") and node.args:
                self._written_code(node, node.args[0])
        self.generic_visit(node)

    @staticmethod
    def _looks_like_http_client(node: ast.AST) -> bool:
        text = ast.unparse(node) if isinstance(node, (ast.Name, ast.Attribute, ast.Call)) else ""
        return bool(re.search(r"session|client|http|requests|s$", text, re.IGNORECASE))

    def _call(self, node: ast.Call, q: str) -> None:
        short = q if len(q) < 80 else q[:80]
        for sig in call_signals(q):
            self.hit(sig, node, short + "(...)")
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        if q in ("builtins.exec", "builtins.eval", "builtins.compile") or (
            q.endswith((".exec", ".eval")) and q.startswith("builtins")
        ):
            if isinstance(node.func, ast.Name) and not re.search(
                r"exec|eval|compile", node.func.id, re.IGNORECASE
            ):
                self.hit("obfuscated-names", node, f"{q} called as {node.func.id}()")
            self._exec(node)
        if q in ("builtins.open", "io.open", "codecs.open") and len(node.args) >= 2:
            mode = self.fold(node.args[1])
            if isinstance(mode, str) and any(c in mode for c in "wa"):
                self.hit("writes-file", node, f"open(..., {mode!r})")
                self._note_written(node.args[0])
        if q == "builtins.open" and "mode" in kw:
            mode = self.fold(kw["mode"])
            if isinstance(mode, str) and any(c in mode for c in "wa"):
                self.hit("writes-file", node, f"open(..., mode={mode!r})")
                if node.args:
                    self._note_written(node.args[0])
        if q == "urllib.request.urlretrieve" and len(node.args) >= 2:
            self._note_written(node.args[1])
        if q == "os.startfile" and node.args:
            self._note_spawn(node, self._arg_text(node.args[0]))
        if q.endswith((".write_bytes", ".write_text")):
            self.hit("writes-file", node, q)
        if q.endswith((".write", ".write_text", ".write_bytes")) and node.args:
            self._written_code(node, node.args[0])
        if q in ("threading.Thread", "multiprocessing.Process", "threading.Timer"):
            d = kw.get("daemon")
            if isinstance(d, ast.Constant) and d.value is True:
                self.hit("daemon-thread", node, f"{q}(daemon=True)")
        if q == "os.chmod" and len(node.args) >= 2:
            mode = self.fold(node.args[1])
            mode_text = ast.unparse(node.args[1])
            if (
                (isinstance(mode, int) and mode & 0o111)
                or "EXEC" in mode_text
                or "S_IX" in mode_text
            ):
                self.hit("write-exec", node, f"os.chmod(..., {mode_text})")
        if q == "os.fork":
            self.hit("background", node, "os.fork()")
        if (
            q.startswith("subprocess.")
            or q in ("os.system", "os.popen")
            or q.startswith(("os.spawn", "os.exec", "asyncio.create_subprocess"))
        ):
            self._spawn(node, q, kw)
        if q in ("os.getenv", "os.environ.get") and node.args:
            key = self.fold(node.args[0])
            if isinstance(key, str) and any(s == "secret-env" for s, _ in string_signals(key)):
                self.hit("env-secret-read", node, f"{q}({key!r})")
        if not q.startswith(("subprocess.", "os.exec", "os.spawn", "asyncio.")):
            values: list[ast.expr] = list(node.args)
            values += [k.value for k in node.keywords if k.arg != "env"]
            values += [v for d in values if isinstance(d, ast.Dict) for v in d.values]
            if any(self.qualname(v) == "os.environ" for v in values):
                self.hit("env-all", node, f"{q}(os.environ)")
        if q in ("pip.main", "pip._internal.main", "pip._internal.cli.main.main"):
            self.hit("pip-install", node, q)

    def _spawn(self, node: ast.Call, q: str, kw: dict[str, ast.expr]) -> None:
        for key in ("stdout", "stderr"):
            v = kw.get(key)
            if v is not None:
                vq = self.qualname(v)
                if vq in ("subprocess.DEVNULL",) or (
                    isinstance(v, ast.Call)
                    and self.qualname(v.func) == "builtins.open"
                    and "devnull" in ast.unparse(v)
                ):
                    self.hit("silenced-output", node, f"{key}=DEVNULL")
        cf = kw.get("creationflags")
        if cf is not None and re.search(
            r"NO_WINDOW|DETACHED|0x08000000|134217728", ast.unparse(cf)
        ):
            self.hit("silenced-output", node, "creationflags hide the window")
        if kw.get("start_new_session") is not None:
            self.hit("background", node, "start_new_session")
        args = node.args[0] if node.args else kw.get("args")
        if args is None:
            return
        folded = self.fold(args)
        text = ""
        if isinstance(folded, str):
            text = folded
        elif isinstance(folded, list):
            text = " ".join(str(x) for x in folded if isinstance(x, (str, int)))
        decoded = self._decoder_depth(args) > 0 or self._fed_by_decoder(args)
        if decoded:
            self.hit("spawn-decoded", node, f"{q}(<decoded command>)")
        if text:
            self._string(text, node, folded=True, decoded=decoded)
            if _RECON_COMMAND.match(text):
                self.hit("recon-command", node, text[:80])
        # the literal pieces of a command built at run time (`"curl -d '" + data + "' url"`)
        pieces = (
            text
            or " ".join(
                n.value
                for n in ast.walk(args)
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
            )[:2000]
        )
        if pieces:
            words = re.findall(r"[\w.-]+", pieces[:2000])
            tools = {posixpath.basename(w).lower().removesuffix(".exe") for w in words[:64]}
            if tools & {
                "curl",
                "wget",
                "invoke-webrequest",
                "iwr",
                "invoke-restmethod",
                "irm",
                "nc",
                "ncat",
                "bitsadmin",
                "certutil",
            }:
                # a command-line client is as much a network call as requests.get
                self.hit("network", node, f"{pieces[:60]} (network client)")
                if re.search(r"\s(?:-o|-O|--output(?:-document)?|-OutFile)\b", pieces):
                    self.download_units.add(self.unit)
                if re.search(
                    r"\s(?:-d|--data(?:-\w+)?|-F|--form|-T|--upload-file|-X\s*POST"
                    r"|--post-(?:data|file)|-Method\s+Post|-Body)\b",
                    pieces,
                ):
                    self.hit("net-send", node, f"{pieces[:60]} (sends data)")
            if re.search(r"\bpip3?\b.*\binstall\b", text):
                self.hit("pip-install", node, text[:100])
            # The runtime must be a command word (`node app.js`, `sh -c "bun x.js"`), not part
            # of an option (`gprof2dot --node-label=...` in torch).
            if re.search(r"(?:^|[\s;&|/])(?:node|bun|deno)(?:\.exe)?(?=\s|$)", text):
                self.hit("js-runtime", node, text[:100])
        if isinstance(args, (ast.List, ast.Tuple)) and args.elts:
            first = self.qualname(args.elts[0])
            first_val = self.fold(args.elts[0])
            if first == "sys.executable" or (
                isinstance(first_val, str)
                and re.match(r"^(?:python[\d.]*|pythonw)(?:\.exe)?$", first_val)
            ):
                self.hit("spawn-python", node, "child process runs python")
                rest_vals = [self.fold(e) for e in args.elts[1:]]
                stdin = kw.get("stdin")
                if (
                    "-" in rest_vals
                    and stdin is not None
                    and self.qualname(stdin) == "subprocess.PIPE"
                ):
                    self.hit("python-stdin", node, "python - (program read from stdin)")
                rest = " ".join(ast.unparse(e) for e in args.elts[1:])
                if "__file__" in rest or "dirname" in rest or ".py" in rest:
                    self.hit("spawn-bundled", node, rest[:120])
            if isinstance(first_val, str) and re.match(r"^(?:node|bun|deno)(?:\.exe)?$", first_val):
                self.hit("js-runtime", node, f"{first_val} ...")
        if isinstance(folded, list):
            # `python -c "<code>"`: the code is Python, analyse it where the call is
            items = [x for x in folded if isinstance(x, str)]
            for i, item in enumerate(items[:-1]):
                if item == "-c" and self.depth < MAX_DEPTH:
                    self.analyse_source(
                        items[i + 1],
                        self.depth + 1,
                        node.lineno - 1 + self.line_offset,
                        self.unit,
                        self.result,
                    )
        elif isinstance(folded, str):
            m = re.search(r"python[\d.]*(?:\.exe)?\s+-c\s+([\"'])(.+)\1", folded, re.S)
            if m and self.depth < MAX_DEPTH:
                self.analyse_source(
                    m.group(2),
                    self.depth + 1,
                    node.lineno - 1 + self.line_offset,
                    self.unit,
                    self.result,
                )
        if not isinstance(folded, (str, list)) and "network" in self.sources_of(args):
            self.hit("remote-command", node, "command line read from the network")
        unparsed = self._arg_text(args)
        for candidate in (text, unparsed):
            m = _DOWNLOAD_THEN_RUN.search(candidate)
            if m is not None:
                self.hit("run-written", node, f"downloads to {m.group('file')[:60]} and runs it")
                break
        first = posixpath.basename(text.split()[0]) if text.strip() else ""
        if first not in _FILE_TOOLS:
            # unpacking or hashing what was downloaded does not run it
            self._note_spawn(node, f"{unparsed} {text}")
        if re.search(r"\.[cm]?js\b", unparsed):
            self.hit("spawn-js", node, unparsed[:200])
        if "__file__" in unparsed:
            self.hit("spawn-bundled", node, unparsed[:120])
        if re.search(r"tmp|temp|download|appdata|\.exe\b", unparsed, re.IGNORECASE):
            self.hit("write-exec", node, unparsed[:120])

    def _param_index(self, text: str) -> int | None:
        """The index of the current function's parameter that `text` names, if any."""
        if self.params:
            _, params = self.params[-1]
            for i, p in enumerate(params):
                if re.search(rf"(?<![\w.]){re.escape(p)}(?!\w)", text):
                    return i
        return None

    def _note_written(self, path: ast.expr) -> None:
        text = ast.unparse(path)
        i = self._param_index(text) if isinstance(path, ast.Name) else None
        if i is not None:
            self.writes_param.setdefault(self.params[-1][0], set()).add(i)
        if len(text) < 200:
            self.written.append((self.unit, text))
        value = self.fold(path)
        if isinstance(value, str) and len(value) >= 5 and "{}" not in value:
            self.written.append(("", posixpath.basename(value.replace("\\", "/")) or value))

    def _note_spawn(self, node: ast.AST, command: str) -> None:
        self.spawned.append((self.unit, node, command))
        i = self._param_index(command)
        if i is not None:
            self.spawns_param.setdefault(self.params[-1][0], set()).add(i)

    def finish(self) -> None:
        """After the walk: a child process started on a file this code wrote (a name in
        the same function, a module-level name, or the same literal file name)."""
        for unit, call, callee in self.call_sites:
            for i, arg in enumerate(call.args):
                text = (
                    ast.unparse(arg)
                    if i in self.writes_param.get(callee, ())
                    or i in self.spawns_param.get(callee, ())
                    else ""
                )
                if len(text) > 200:
                    continue
                if i in self.writes_param.get(callee, ()):
                    self.written.append((unit, text))
                if i in self.spawns_param.get(callee, ()):
                    if (
                        isinstance(arg, ast.Call)
                        and isinstance(arg.func, (ast.Name, ast.Attribute))
                        and (arg.func.id if isinstance(arg.func, ast.Name) else arg.func.attr)
                        in self.returns_written
                    ):
                        self.written.append((unit, text))
                    self.spawned.append((unit, call, text))
        for unit, node, command in self.spawned:
            if unit in self.download_units and not _DOWNLOAD_TOOL.search(command):
                # `curl -L url -O` then `os.startfile(name)`: runs what it fetched
                self.unit_stack.append(unit)
                self.hit("run-written", node, f"runs {command[:60]} after a download")
                self.unit_stack.pop()
                continue
            for wunit, key in self.written:
                if len(key) < 3 or key not in command:
                    continue
                if wunit == "":  # a literal file name
                    same = True
                elif re.fullmatch(r"[A-Za-z_]\w*", key):
                    same = (wunit == unit or key in self.module_names) and re.search(
                        rf"(?<![\w.]){re.escape(key)}(?!\w)", command
                    ) is not None
                else:
                    same = True  # the same path expression, spelled out
                if same:
                    self.unit_stack.append(unit)
                    self.hit("run-written", node, f"runs {key[:80]}, which it wrote")
                    self.unit_stack.pop()
                    break

    def _fed_by_decoder(self, node: ast.AST) -> bool:
        """Whether a name in the expression was assigned from a decoder call (strictly:
        base64 / hex / zlib / a local wrapper of them, not `bytes.decode`)."""
        names: set[str] = set()
        stack = [node]
        while stack and len(names) < 32:
            cur = stack.pop()
            if isinstance(cur, ast.Call) and self._decoder_depth(cur) > 0:
                return True
            if isinstance(cur, ast.BinOp) and isinstance(cur.op, ast.BitXor):
                return True  # an XOR cipher
            if isinstance(cur, ast.Name) and cur.id in self.assigned and cur.id not in names:
                names.add(cur.id)
                stack.append(self.assigned[cur.id])
            stack.extend(ast.iter_child_nodes(cur))
        return False

    _CODE_SHAPE = re.compile(
        r"^\s*(?:import \w|from [\w.]+ import |def \w+\(|class \w+[(:])", re.MULTILINE
    )

    def _written_code(self, node: ast.Call, arg: ast.expr) -> None:
        """Python source written to a file is analysed where it is written: droppers write
        their second stage next to themselves and start it with `python file.py`."""
        value = self.fold(arg)
        text = _as_text(value) if isinstance(value, (str, bytes)) else None
        if text is None or len(text) < 40 or len(text) > MAX_FOLD:
            return
        shapes = len(self._CODE_SHAPE.findall(text, 0, 20_000))
        if (shapes < 2 and not (shapes == 1 and ";" in text)) or self.depth >= MAX_DEPTH:
            return
        self.hit("written-code", node, f"writes {len(text)} characters of Python source")
        self.analyse_source(
            text, self.depth + 1, node.lineno - 1 + self.line_offset, self.unit, self.result
        )

    def _arg_text(self, node: ast.AST) -> str:
        """Source of an argument, with simple names replaced by what they were assigned."""
        text = ast.unparse(node)
        if len(text) > 2000:
            return ""
        names = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
        for name in names[:8]:
            value = self.assigned.get(name)
            if value is not None:
                sub = ast.unparse(value)
                if len(sub) < 2000:
                    text += " " + sub
        return text

    def _exec(self, node: ast.Call) -> None:
        if not node.args:
            return
        arg = node.args[0]
        if isinstance(arg, ast.Call) and self.qualname(arg.func) == "builtins.compile" and arg.args:
            arg = arg.args[0]
        value = self.fold(arg)
        srcs = self.sources_of(arg)
        text = _as_text(value) if not isinstance(value, _Unknown) else None
        decoders = self._decoder_depth(arg)
        if decoders >= 2:
            self.hit("nested-decode", node, f"{decoders} nested decoders")
        if text is not None:
            name_only = re.fullmatch(r"\s*(__import__\s*\(.*\)|[A-Za-z_][\w.]*)\s*", text, re.S)
            if (
                name_only
                and len(text) < 200
                and re.search(
                    r"\b(?:eval|exec|compile|__import__|getattr|open|system|popen)\b", text
                )
            ):
                # eval("eval"), eval("__import__('base64')"): eval used to hide a name
                self.hit("obfuscated-names", node, f"eval({text.strip()[:60]!r})")
                self.hit("builtins-access", node, f"eval({text.strip()[:60]!r})")
            if decoders or "decode" in srcs:
                self.hit("exec-decoded", node, f"exec of a decoded payload ({len(text)} chars)")
            elif len(text) > 40:
                self.hit("exec-literal", node, f"exec of a {len(text)}-character literal")
            if self.depth < MAX_DEPTH and len(text) <= MAX_FOLD:
                self.analyse_source(
                    text, self.depth + 1, node.lineno - 1 + self.line_offset, self.unit, self.result
                )
            return
        if "decode" in srcs or decoders:
            self.hit("exec-decoded", node, "exec of decoded / decrypted data")
        elif "network" in srcs or "network-maybe" in srcs:
            self.hit("exec-remote", node, "exec of data fetched over the network")
        elif not isinstance(arg, ast.Constant):
            self.hit("exec-dynamic", node, "exec of a computed value")

    def _decoder_depth(self, node: ast.AST) -> int:
        depth = 0
        cur: ast.AST | None = node
        while isinstance(cur, ast.Call) and depth < 100:
            q = self.qualname(cur.func)
            attr = cur.func.attr if isinstance(cur.func, ast.Attribute) else ""
            if (q is not None and (q in DECODER_NAMES or q in self.decoder_wrappers)) or attr in (
                "decrypt",
                "decompress",
                "b64decode",
            ):
                depth += 1
                cur = cur.args[0] if cur.args else None
            elif attr in ("decode", "encode") or (q or "").startswith("builtins."):
                cur = (
                    cur.func.value
                    if isinstance(cur.func, ast.Attribute) and attr in ("decode", "encode")
                    else (cur.args[0] if cur.args else None)
                )
            else:
                break
        return depth

    # -- after the walk ----------------------------------------------------------

    def import_time_units(self, setup_like: bool) -> set[str]:
        """Units reachable from module-level code (and, in setup.py, from install hooks)."""
        start = {self.unit_stack[0]}
        start |= {self.defined[n] for n in self.entry_names if n in self.defined}
        if setup_like:
            start.add(self.unit_prefix + "<main>")  # setup.py runs as __main__
            start |= {
                u
                for u in self.defined.values()
                if any(u.startswith(h + ".") for h in self.hook_units)
            }
        seen = set(start)
        todo = list(start)
        while todo:
            unit = todo.pop()
            for callee in self.calls_from.get(unit, ()):
                target = (
                    self.defined.get(callee)
                    or self.defined.get(f"{callee}.__init__")
                    or self.defined.get(f"{callee}.run")
                )
                if target is not None and target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen


@dataclass(frozen=True, slots=True)
class _DecoderWrapper:
    """A local function that decodes its argument: enough to fold a call on a literal."""

    decoder: str
    """The library decoder it applies (the fallback when its body cannot be folded)."""
    param: str
    returns: ast.expr
    local: dict[str, ast.AST]
    """Its own assignments, for the names the returned expression reads."""


def _first_param(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The first parameter that is not `self` / `cls`."""
    names = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    return names[0] if names else None


def _int_op(op: ast.operator, a: int, b: int) -> int:
    if isinstance(op, ast.Sub):
        return a - b
    if isinstance(op, ast.Mult):
        return a * b
    if isinstance(op, ast.LShift) and b < 64:
        return a << b
    if isinstance(op, ast.RShift):
        return a >> b
    if isinstance(op, ast.BitOr):
        return a | b
    if isinstance(op, ast.BitAnd):
        return a & b
    if isinstance(op, ast.BitXor):
        return a ^ b
    if isinstance(op, ast.FloorDiv):
        return a // b
    if isinstance(op, ast.Mod):
        return a % b
    if isinstance(op, ast.Add):
        return a + b
    raise ValueError("unsupported")


CAPABILITY_TOKENS = (
    b"exec",
    b"eval",
    b"compile",
    b"__import__",
    b"__builtins__",
    b"builtins",
    b"import_module",
    b"marshal",
    b"subprocess",
    b"system",
    b"popen",
    b"Popen",
    b"spawn",
    b"startfile",
    b"pty",
    b"requests",
    b"urlopen",
    b"urlretrieve",
    b"urllib",
    b"http.client",
    b"httplib",
    b"httpx",
    b"aiohttp",
    b"socket",
    b"pycurl",
    b"ftplib",
    b"smtplib",
    b"telnetlib",
    b"paramiko",
    b"dns",
    b"ctypes",
    b"winreg",
    b"CryptUnprotectData",
    b"pip.main",
    b"pip._internal",
    b"webhook",
    b"telegram",
    b"crontab",
    b"systemd",
    b"LaunchAgents",
    b"CurrentVersion",
    b"schtasks",
    b".bashrc",
    b"autostart",
    b"getattr",
    b"globals()[",
)
_AMBIGUOUS = {
    b"exec": rb"(?<![.\w])exec(?:file|[lv]p?e?)?\b",
    b"eval": rb"(?<![.\w])eval\s*\(",
    b"compile": rb"(?<![.\w])compile\s*\(",
    # the word "system" in prose is not a call: `os.system(`, `system(` after
    # an import, the name in quotes (getattr), or an alias of os.system
    b"system": rb"\bsystem\s*\(|[\"']system[\"']|import[^\n]*\bsystem\b"
    rb"|=\s*os\.system\b",
    b"pty": rb"\bpty\b",
    b"getattr": rb"getattr\s*\(\s*(?:os|subprocess|builtins|__builtins__|socket|base64"
    rb"|zlib|marshal|importlib|__import__\([^)]*\))\s*,",
    b"dns": rb"\bdns\b",
    # a literal key is plain code; a computed one may spell "__builtins__"
    b"globals()[": rb"globals\(\)\s*\[\s*(?![\"'])",
    b"spawn": rb"\bspawn[lv]|\.spawn\(",
}
_AMBIGUOUS_RE = {k: re.compile(v) for k, v in _AMBIGUOUS.items()}
"""Source without any of these tokens cannot produce a signal that a rule needs (every
python-ast rule requires a capability: exec, a process, the network, native calls,
or an autostart location), so it is not parsed at all: a large speed-up on big wheels.
Substring tests run at memchr speed; the few tokens that are also common words are
confirmed with a regex only when the substring is present."""


def may_have_capability(source: bytes) -> bool:
    """True when the source mentions anything a python-ast rule could need."""
    for token in CAPABILITY_TOKENS:
        if token in source:
            rx = _AMBIGUOUS_RE.get(token)
            if rx is None or rx.search(source) is not None:
                return True
    return False


def parses(source: bytes | str) -> bool:
    """Whether Python source parses at all (Python 2 code does not)."""
    text = source.decode("utf-8", "replace") if isinstance(source, bytes) else source
    try:
        _parse(text.removeprefix("\ufeff"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _parse(source: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)


MAX_REPAIRS = 64
"""Lines a tolerant parse may rewrite before it gives up on a file."""
MAX_REPAIR_SOURCE = 1 << 20

_PY2_PRINT = re.compile(r"^(\s*)print\b\s*(?!\s*\()(.*?)\s*$")
_PY2_EXEC = re.compile(r"^(\s*)exec\b\s+(?!\s*\()(.*?)\s*$")
_PY2_EXCEPT = re.compile(r"^(\s*except\s+[\w.()\s,]+?)\s*,\s*(\w+)\s*:")
_PY2_RAISE = re.compile(r"^(\s*raise\s+[\w.]+(?:\([^)]*\))?)\s*,.*$")
_PY2_OCTAL = re.compile(r"(?<![\w.])0(\d+)(?![\w.])")
_PY2_BACKTICK = re.compile(r"`([^`\n]*)`")


def _repair_line(line: str) -> str:
    """A Python 2 spelling of a line rewritten in Python 3 (same meaning, same line)."""
    for rx, repl in (
        (_PY2_EXEC, r"\1exec(\2)"),
        (_PY2_PRINT, r"\1print(\2)"),
        (_PY2_EXCEPT, r"\1 as \2:"),
        (_PY2_RAISE, r"\1"),
    ):
        fixed = rx.sub(repl, line, count=1)
        if fixed != line:
            return fixed
    fixed = _PY2_OCTAL.sub(r"0o\1", line)
    fixed = _PY2_BACKTICK.sub(r"repr(\1)", fixed)
    return fixed.replace("<>", "!=").replace("ur'", "r'").replace('ur"', 'r"')


def parse_tolerant(source: str) -> tuple[ast.Module, int]:
    """Parse source that Python 3 refuses, as far as it can be read: Python 2 spellings
    are rewritten line by line (`print x`, `exec code`, `except E, e`, `0777`), and a line
    that still does not parse becomes `pass` at its indentation. Malware is often
    Python 2 or carelessly written; a file that does not parse must not hide the rest of
    its code. Raises SyntaxError when the file cannot be recovered. Returns the tree and
    how many lines were rewritten."""
    if len(source) > MAX_REPAIR_SOURCE:
        raise SyntaxError("too large to repair")
    lines = source.replace("\x00", "").expandtabs(8).split("\n")
    touched: dict[int, int] = {}
    for _ in range(MAX_REPAIRS):
        tree, err = _try_parse("\n".join(lines))
        if tree is not None:
            return tree, len(touched)
        if err is not None:
            lineno = err.lineno
            if lineno is None or not 1 <= lineno <= len(lines):
                raise err
            i = lineno - 1
            tries = touched.get(i, 0)
            touched[i] = tries + 1
            line = lines[i]
            indent = line[: len(line) - len(line.lstrip())]
            if tries == 0 and (fixed := _repair_line(line)) != line:
                lines[i] = fixed
            elif tries <= 1 and line.strip() not in ("", "pass"):
                if isinstance(err, IndentationError) and i > 0:
                    prev = next((p for p in reversed(lines[:i]) if p.strip()), "")
                    indent = prev[: len(prev) - len(prev.lstrip())]
                    if prev.rstrip().endswith(":"):
                        indent += "    "
                lines[i] = indent + "pass"
            elif tries <= 2:
                lines[i] = ""
            else:
                raise err
    raise SyntaxError("too many lines to repair")


def _try_parse(text: str) -> tuple[ast.Module | None, SyntaxError | None]:
    try:
        return _parse(text), None
    except SyntaxError as err:
        return None, err


def analyse(
    source: str | bytes, *, setup_like: bool = False, entry_names: frozenset[str] = frozenset()
) -> Analysis:
    """Analyse one Python file. Source that does not parse gives `parsed=False`, no hits.

    `setup_like`: the file runs at install time (setup.py, a build hook), so functions
    that install-command classes define count as running, like module-level code.
    `entry_names`: functions of this file that another one calls when it runs (what
    setup.py imports from a helper module), counted as running like module-level code.
    """
    result = Analysis()
    if isinstance(source, bytes):
        source = source.decode("utf-8", "replace")
    # a UTF-8 byte-order mark is legal at the start of a file; ast.parse refuses it in str
    source = source.removeprefix("\ufeff")
    if len(source) > MAX_SOURCE:
        result.parsed = False
        result.error = "too large to parse"
        return result
    nested: dict[str, set[str]] = {}

    def analyse_source(text: str, depth: int, line_offset: int, unit: str, into: Analysis) -> None:
        try:
            tree = _parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return
        visitor = _Analyzer(into, depth, line_offset, unit + ">", analyse_source)
        visitor.unit_stack = [unit]
        visitor.hit("decoded-source", None, f"nested source analysed at depth {depth}")
        try:
            visitor.visit(tree)
            visitor.finish()
        except RecursionError:
            into.error = "too deeply nested"
        # what the decoded module-level code calls runs wherever the exec ran
        nested.setdefault(unit, set()).update(visitor.import_time_units(False))

    try:
        tree = _parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        try:
            tree, repaired = parse_tolerant(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            result.parsed = False
            result.error = f"does not parse: {type(err).__name__}"
            return result
        result.error = f"parsed after rewriting {repaired} line(s)"
    visitor = _Analyzer(result, 0, 0, "", analyse_source)
    visitor.entry_names = entry_names
    try:
        visitor.visit(tree)
        visitor.finish()
    except RecursionError:
        result.error = "too deeply nested"
    units = visitor.import_time_units(setup_like)
    todo = list(units)
    while todo:
        for extra in nested.get(todo.pop(), ()):
            if extra not in units:
                units.add(extra)
                todo.append(extra)
    result.import_time_units = units
    return result


def iter_strings(tree: ast.AST) -> Iterable[str]:
    """Every string constant of a tree (for text rules that want only literals)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value
