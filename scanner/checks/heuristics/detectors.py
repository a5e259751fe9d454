"""Detectors: what a call, a string, a child process or an exec does, turned into
signals (the layer above data flow; the visitor calls them as it walks)."""

from __future__ import annotations

import ast
import posixpath
import re
import textwrap

from scanner.checks.heuristics.behaviour import Entry
from scanner.checks.heuristics.flow import _Flow
from scanner.checks.heuristics.values import (
    MAX_FOLD,
    _as_text,
    _Unknown,
)
from scanner.checks.heuristics.vocabulary import (
    _BLOB_RE,
    _DOWNLOAD_THEN_RUN,
    _FILE_TOOLS,
    _RECON_COMMAND,
    _REGEX_SYNTAX,
    _RUNTIME_PROBE,
    CALLBACK_SIGNALS,
    DECODED_INTENTS,
    METHOD_ENTRIES,
    call_signals,
    conditional_entries,
    string_signals,
)

MAX_DEPTH = 6
"""How many nested payloads (exec of decoded source) are analysed."""
_DATA_FILE = re.compile(
    r"\.(?:txt|json|dat|bin|cfg|ini|md|rst|csv|ya?ml|png|jpe?g|gif|ico|wav|mp3|log|tmp|db|pkl"
    r"|xml|html?|svg)$",
    re.IGNORECASE,
)
"""A file name that says data, not code."""
_READS = frozenset({"read", "read_text", "read_bytes", "get_data", "read_binary", "readlines"})


_SAVE_TO_SECOND_ARG = frozenset(
    {
        "urllib.request.urlretrieve",
        "urllib.urlretrieve",
        "wget.download",
        "gdown.download",
    }
)
"""Download functions whose second argument is the file they write."""


class _Detectors(_Flow):
    """Turns calls, strings, spawns and execs into hits."""

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
        if q in _SAVE_TO_SECOND_ARG and len(node.args) >= 2:
            # `urlretrieve(url, filename)` / `wget.download(url, out)`: the download is
            # written to the file named by the second argument
            self.hit("writes-file", node, f"{q}(..., {ast.unparse(node.args[1])[:60]})")
            self._note_written(node.args[1])
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
                if re.search(r"\binstall\b.*\s(?:https?://|git\+)\S*", text):
                    # an archive or repository by URL: pip downloads it and runs its build
                    self.hit("download", node, text[:100])
                    self.hit("pip-install-url", node, text[:100])
            # The runtime must be a command word (`node app.js`, `sh -c "bun x.js"`), not part
            # of an option (`gprof2dot --node-label=...` in torch).
            if re.search(
                r"(?:^|[\s;&|/])(?:node|bun|deno)(?:\.exe)?(?=\s|$)", text
            ) and not _RUNTIME_PROBE.match(text):
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
            if (
                isinstance(first_val, str)
                and re.match(r"^(?:node|bun|deno)(?:\.exe)?$", first_val)
                and not _RUNTIME_PROBE.match(text)
            ):
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
        data_file = self._reads_data_file(arg)
        if data_file is not None:
            self.hit("exec-data", node, f"exec of text read from {data_file[:80]}")
        if "decode" in srcs or decoders:
            self.hit("exec-decoded", node, "exec of decoded / decrypted data")
        elif "network" in srcs or "network-maybe" in srcs:
            self.hit("exec-remote", node, "exec of data fetched over the network")
        elif not isinstance(arg, ast.Constant):
            self.hit("exec-dynamic", node, "exec of a computed value")
            generated = self._codegen_template(arg) if not srcs else None
            if generated is not None:
                self.hit("exec-codegen", node, "exec of code built from a source template")
                if self.depth < MAX_DEPTH and len(generated) <= MAX_FOLD:
                    # what the template does is judged like any code (its holes as names)
                    self.analyse_source(
                        generated,
                        self.depth + 1,
                        node.lineno - 1 + self.line_offset,
                        self.unit,
                        self.result,
                    )

    def _codegen_template(self, arg: ast.AST) -> str | None:
        """Code generated from a template written in the source, whose holes are plain
        names or attributes, not calls:
        - a function: `exec(dedent(f"def {name}(obj): return {check}"))` (typing_inspection,
          dataclasses), `exec(template % dict(name=name, kw=kw))` (scipy);
        - a statement whose holes only name what it binds or deletes, or sit inside a
          string: `exec("%s = type(objects['%s'])" % (n, n))` (dill), `exec("del " + obj)`.
        A hole where an expression goes (`exec("x = %s" % value)`) can hold any code.
        Returns the template with its holes filled by names (to be analysed), or None."""
        template = self._template(arg)
        if template is None:
            return None
        parts, holes = template
        if len(parts) != len(holes) + 1 or not all(_plain_hole(h) for h in holes):
            return None
        marks = [f"_wormsign_hole_{i}_" for i in range(len(holes))]
        filled = parts[0] + "".join(m + p for m, p in zip(marks, parts[1:], strict=True))
        if re.match(r"\s*(?:async\s+)?def\s", textwrap.dedent(filled)) is not None:
            return textwrap.dedent(filled)
        return filled if _holes_only_bind(filled, marks) else None

    def _template(self, arg: ast.AST) -> tuple[list[str], list[ast.expr]] | None:
        """(literal pieces, holes) of a template string expression: an f-string, a
        literal `%` its values, a literal `.format(...)`, literal + name; None otherwise.
        Between two pieces is one hole."""
        if isinstance(arg, ast.Name) and isinstance(self.assigned.get(arg.id), ast.AST):
            arg = self.assigned[arg.id]
        wrapper = (self.qualname(arg.func) or "") if isinstance(arg, ast.Call) else ""
        if (
            isinstance(arg, ast.Call)
            and len(arg.args) == 1
            and wrapper.endswith(("dedent", "cleandoc"))
        ):
            return self._template(arg.args[0])
        if isinstance(arg, ast.JoinedStr):
            parts, holes, cur = [], [], ""
            for v in arg.values:
                if isinstance(v, ast.Constant):
                    cur += str(v.value)
                elif isinstance(v, ast.FormattedValue):
                    parts.append(cur)
                    holes.append(v.value)
                    cur = ""
            return [*parts, cur], holes
        if isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Mod):
            left = self._literal(arg.left)
            if left is None:
                return None
            split = re.split(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[sdrif]", left)
            pieces, keys = split[0::2], split[1::2]
            by_key = _format_mapping(arg.right)
            if by_key is not None:
                found = [by_key.get(k) if k else None for k in keys]
                named = [h for h in found if h is not None]
                return (pieces, named) if len(named) == len(found) else None
            values = list(arg.right.elts) if isinstance(arg.right, ast.Tuple) else [arg.right]
            return pieces, values
        if (
            isinstance(arg, ast.Call)
            and isinstance(arg.func, ast.Attribute)
            and arg.func.attr == "format"
        ):
            left = self._literal(arg.func.value)
            if left is None:
                return None
            pieces = re.split(r"\{[\w.]*\}", left)
            return pieces, [*arg.args, *(k.value for k in arg.keywords)]
        if isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Add):
            terms: list[ast.expr] = []
            stack: list[ast.expr] = [arg]
            while stack:
                cur_node = stack.pop()
                if isinstance(cur_node, ast.BinOp) and isinstance(cur_node.op, ast.Add):
                    stack += [cur_node.right, cur_node.left]
                else:
                    terms.append(cur_node)
            parts, holes, text = [], [], ""
            for term in terms:
                literal = term.value if isinstance(term, ast.Constant) else None
                if isinstance(literal, str):
                    text += literal
                else:
                    parts.append(text)
                    holes.append(term)
                    text = ""
            return [*parts, text], holes
        return None

    def _literal(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name) and isinstance(self.assigned.get(node.id), ast.AST):
            node = self.assigned[node.id]
        if (
            isinstance(node, ast.Call)
            and len(node.args) == 1
            and (self.qualname(node.func) or "").endswith(("dedent", "cleandoc"))
        ):
            node = node.args[0]
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return None

    def _reads_data_file(self, node: ast.AST) -> str | None:
        """The data file (by a literal name ending .txt, .json, .dat ...) whose contents
        the expression reads, following simple names; None when it reads none."""
        reads = False
        names: list[str] = []
        seen: set[str] = set()
        stack = [node]
        while stack and len(seen) < 32:
            cur = stack.pop()
            if isinstance(cur, ast.Call):
                func = cur.func
                if isinstance(func, ast.Attribute) and func.attr in _READS:
                    reads = True
                q = self.qualname(func)
                if q in ("pkgutil.get_data", "importlib.resources.read_text", "json.load"):
                    reads = True
            elif isinstance(cur, ast.Constant) and isinstance(cur.value, str):
                if _DATA_FILE.search(cur.value):
                    names.append(cur.value)
            elif isinstance(cur, ast.Name) and cur.id in self.assigned and cur.id not in seen:
                seen.add(cur.id)
                stack.append(self.assigned[cur.id])
            stack.extend(ast.iter_child_nodes(cur))
        return names[0] if reads and names else None

    def _args_agree(self, node: ast.Call, entry: Entry) -> bool:
        """Whether a call's arguments meet a catalogue entry's conditions."""
        if entry.keyword is not None and not (
            any(k.arg == entry.keyword for k in node.keywords) or len(node.args) >= 2
        ):
            return False
        first = node.args[0] if node.args else None
        if entry.literal_arg:
            if first is None:
                return False
            # the folder decodes literals (base64, zlib, hex ...): what it cannot compute
            # came from somewhere else (a file, a socket), which is not a constant
            value = self.fold(first)
            if not (isinstance(value, (str, bytes)) and len(value) >= 4):
                return False
        if entry.first_arg is not None:
            if first is None:
                return False
            value = self.fold(first)
            if isinstance(value, bytes):
                # socket functions take a name as bytes too (`b64decode(...)` unfinished)
                value = value.decode("latin-1")
            if isinstance(value, str):
                text = value
            elif isinstance(value, list):  # an argument list: its known words, in order
                text = " ".join(str(x) for x in value if isinstance(x, (str, int)))
            else:
                text = self._literal_pieces(first)
            if re.search(entry.first_arg, text) is None:
                return False
        return True

    def _literal_pieces(self, node: ast.AST) -> str:
        """The string constants an expression is built from (through simple names)."""
        pieces: list[str] = []
        seen: set[str] = set()
        stack = [node]
        while stack and len(pieces) < 64:
            cur = stack.pop()
            if isinstance(cur, ast.Constant) and isinstance(cur.value, str):
                pieces.append(cur.value)
            elif isinstance(cur, ast.Name) and cur.id in self.assigned and cur.id not in seen:
                seen.add(cur.id)
                stack.append(self.assigned[cur.id])
            stack.extend(reversed(list(ast.iter_child_nodes(cur))))
        return " ".join(pieces)[:2000]

    def _catalogue_call(self, node: ast.Call, q: str | None) -> None:
        """Catalogue roads that depend on the call's arguments or receiver: methods on any
        object, conditional calls, and callbacks (a function handed over to run later)."""
        if isinstance(node.func, ast.Attribute):
            for entry in METHOD_ENTRIES.get(node.func.attr, ()):
                if self._args_agree(node, entry):
                    for sig in entry.signals:
                        self.hit(sig, node, f".{node.func.attr}(...)")
        if q is None:
            return
        for entry in conditional_entries(q):
            if self._args_agree(node, entry):
                for sig in entry.signals:
                    self.hit(sig, node, f"{q[:80]}(...)")
        signals = CALLBACK_SIGNALS.get(q)
        if signals is not None:
            for arg in (*node.args, *(k.value for k in node.keywords)):
                if isinstance(arg, ast.Name) and arg.id not in self.aliases:
                    self.calls_from.setdefault(self.unit, set()).add(arg.id)
                elif isinstance(arg, (ast.Name, ast.Attribute)):
                    # a library function handed over is called: it carries its signals
                    handed = self.qualname(arg)
                    for sig in call_signals(handed) if handed else ():
                        self.hit(sig, node, f"{handed} handed to {q}")
            for sig in signals:
                self.hit(sig, node, f"{q[:80]}(...)")


def _plain_hole(node: ast.expr) -> bool:
    """A name, attribute, subscript or constant: no call can hide in it."""
    return isinstance(node, (ast.Name, ast.Attribute, ast.Subscript, ast.Constant)) and not any(
        isinstance(n, ast.Call) for n in ast.walk(node)
    )


def _format_mapping(node: ast.expr) -> dict[str, ast.expr] | None:
    """The named values of `template % {...}` or `template % dict(k=v)`; None otherwise."""
    if isinstance(node, ast.Dict):
        return {
            k.value: v
            for k, v in zip(node.keys, node.values, strict=True)
            if isinstance(k, ast.Constant) and isinstance(k.value, str)
        }
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "dict"
        and not node.args
    ):
        return {k.arg: k.value for k in node.keywords if k.arg is not None}
    return None


def _holes_only_bind(source: str, marks: list[str]) -> bool:
    """Whether a statement template, its holes filled with the names `marks`, parses and
    uses every hole whole: as a name it binds or deletes (at least one), or as a whole
    string literal (`objects['%s']`). A hole inside a longer name or string could spell
    anything (`__import__('o%s')`)."""
    if not marks:
        return False
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    whole = 0
    binds = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in marks:
            if not isinstance(node.ctx, (ast.Store, ast.Del)):
                return False
            binds = True
            whole += 1
        elif isinstance(node, ast.Constant) and node.value in marks:
            whole += 1
    return binds and whole == sum(source.count(m) for m in marks)
