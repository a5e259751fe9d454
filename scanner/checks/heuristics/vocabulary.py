"""The closed vocabulary of signals: which calls (by resolved qualified name) and which
strings (intent regexes) carry which signal, the structural signals the detectors emit,
and the small word lists the detectors consult (install-hook bases, callback sinks,
file tools, recon commands).

Longer than ~600 lines because it is one table of data (the call and string
catalogues); splitting it would scatter the vocabulary a rule author reads in one place."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from scanner.checks.heuristics.behaviour import Entry, catalogue
from scanner.checks.heuristics.literals import anchored, literal_regex, required_literals

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
        r"|net user|cat /etc/passwd|ls -la|cat\s+/(?!proc/|sys/|dev/)[\w./-]+)\s*$",
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
        r"|\.kube[/\\]+config|\.docker[/\\]+config\.json|\.npmrc"
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
    "exec-codegen",  # exec of a def generated from an f-string template in the source
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
    "exec-data",  # exec / runpy of text read from a shipped data file (.txt, .json, .dat)
    "monkey-patch",  # a function of this module assigned over an imported module's attribute
    "credential-sent",  # credential-named values posted to a fixed address, the reply ignored
    "pip-install-url",  # pip install of an archive or repository URL (downloads, then builds)
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


CATALOGUE: tuple[Entry, ...] = catalogue()
"""Sources, sinks and triggers from `rules/behaviour/` (see `behaviour.py`)."""
for _entry in CATALOGUE:
    if not _entry.conditional:
        for _pattern in _entry.calls:
            CALL_SIGNALS[_pattern] = tuple(
                dict.fromkeys((*CALL_SIGNALS.get(_pattern, ()), *_entry.signals))
            )
CONDITIONAL_CALLS: tuple[tuple[str, Entry], ...] = tuple(
    (p, e) for e in CATALOGUE if e.conditional for p in e.calls
)
"""Call patterns whose signals depend on the arguments (`first_arg`, `keyword`, ...)."""


@lru_cache(maxsize=65536)
def conditional_entries(qualname: str) -> tuple[Entry, ...]:
    """The conditional catalogue entries whose call patterns match `qualname`."""
    return tuple(e for p, e in CONDITIONAL_CALLS if _matches(p, qualname))


METHOD_ENTRIES: dict[str, tuple[Entry, ...]] = {}
for _entry in CATALOGUE:
    for _method in _entry.methods:
        METHOD_ENTRIES[_method] = (*METHOD_ENTRIES.get(_method, ()), _entry)
ATTRIBUTE_SIGNALS: dict[str, tuple[str, ...]] = {}
for _entry in CATALOGUE:
    for _attribute in _entry.attributes:
        ATTRIBUTE_SIGNALS[_attribute] = _entry.signals
CALLBACK_SIGNALS: dict[str, tuple[str, ...]] = {
    p: e.signals for e in CATALOGUE for p in e.callbacks
}
"""Calls that run a function handed to them later (the function runs where the call does)."""
CATALOGUE_TOKENS: tuple[bytes, ...] = tuple(
    dict.fromkeys(tok.encode() for e in CATALOGUE for tok in e.tokens)
)
"""Pre-filter tokens that the catalogue's roads add (see `pyast.CAPABILITY_TOKENS`)."""
HOOK_SIGNALS: dict[str, tuple[str, ...]] = {h: e.signals for e in CATALOGUE for h in e.hooks}
"""Module-level functions that a host program calls when it loads the module."""

SIGNALS: frozenset[str] = frozenset(
    {s for sigs in CALL_SIGNALS.values() for s in sigs}
    | {name for name, _ in STRING_SIGNALS}
    | set(STRUCTURAL_SIGNALS)
    | {s for e in CATALOGUE for s in e.signals}
)
"""The closed vocabulary that `python-ast` rules may name."""


_CASE_SENSITIVE = {"secret-env", "ip-literal"}


_STRING_RES = tuple(
    (name, re.compile(pattern) if name in _CASE_SENSITIVE else re.compile(pattern, re.IGNORECASE))
    for name, pattern in STRING_SIGNALS
) + tuple(
    (name, re.compile(e.strings) if e.case_sensitive else re.compile(e.strings, re.IGNORECASE))
    for e in CATALOGUE
    if e.strings is not None
    for name in e.signals
)


_ANY_STRING_RE = re.compile(
    "|".join(
        [f"(?:{p})" for _, p in STRING_SIGNALS]
        + [f"(?:{e.strings})" for e in CATALOGUE if e.strings is not None]
    ),
    re.IGNORECASE,
)


_BLOB_RE = re.compile(rb"^[A-Za-z0-9+/=_\-\s]{2048,}$")


_GATES = tuple(
    None if anchored(rx.pattern, rx.flags) else required_literals(rx.pattern, rx.flags)
    for _, rx in _STRING_RES
)
_GATED: tuple[tuple[str, re.Pattern[str], re.Pattern[str] | None], ...] = tuple(
    (name, rx, None if gate is None else literal_regex(gate))
    for (name, rx), gate in zip(_STRING_RES, _GATES, strict=True)
)
"""Each intent regex with a finder of the literals one of which any match of it contains
(None: tried on every string, as is a regex anchored at the start, which `re` tries at
one place only)."""
_UNGATED = tuple(g for g in _GATED if g[2] is None)
_ANY_LITERAL = literal_regex(x for gate in _GATES if gate is not None for x in gate)


@lru_cache(maxsize=65536)
def _string_signals_cached(sample: str) -> tuple[tuple[str, str], ...]:
    out = []
    if sample.isascii():
        # the same verdict as trying every regex: one runs only where a literal it cannot
        # match without occurs (most strings hold none), where the alternation of them all
        # cost ~15 s over the ~150,000 distinct strings of an ML stack
        lowered = sample.lower()
        todo = _GATED if _ANY_LITERAL.search(lowered) is not None else _UNGATED
        for name, rx, gate in todo:
            if gate is None or gate.search(lowered) is not None:
                m = rx.search(sample)
                if m:
                    out.append((name, m.group(0)[:120]))
        return tuple(out)
    if _ANY_STRING_RE.search(sample) is None:
        return ()
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


# `node --version`: a prerequisite check (lightning's react-ui init), not a runtime run on
# a script. Only the whole command: `node --version && node x.js` still runs one.
_RUNTIME_PROBE = re.compile(r"^\s*(?:node|bun|deno)(?:\.exe)?\s+(?:--version|-v|-V|--help|-h)\s*$")
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
