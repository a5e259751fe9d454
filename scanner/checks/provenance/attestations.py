"""PEP 740 attestations: find them for an artifact, and verify them.

Where attestations come from:
- files beside the artifact or in an attestations directory, named
  `<distribution file name><suffix>` with a suffix from ATTESTATION_SUFFIXES
  (`.publish.attestation`, `.slsa.attestation`, `.provenance`, `.sigstore` ...);
  the content decides the format: a PEP 740 Provenance object (what PyPI's
  integrity API serves), a PEP 740 Attestation object, or a Sigstore bundle;
- PyPI's integrity API (`<index>/integrity/<project>/<version>/<file>/provenance`),
  cached on disk (IntegrityClient).

Verification is `pypi_attestations.Attestation.verify` (sigstore underneath):
signature, certificate chain, transparency-log inclusion, subject name and
sha256 against the artifact, and the publisher identity. Nothing here
re-implements any of it; this module only chooses the identity to verify
against and turns the libraries' errors into one plain sentence.

pypi_attestations, sigstore, cryptography, pydantic and requests are imported
inside the functions that use them: together they take over a second to import,
and the provenance check loads this module on every run, most of which have
nothing to verify.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

from scanner.errors import ServiceError, SourceError
from scanner.infra.http import new_session
from scanner.infra.pypi import DEFAULT_PYPI_URL

if TYPE_CHECKING:
    from typing import TypeAlias

    import requests
    from pydantic import ValidationError
    from pypi_attestations import (
        Attestation,
        Distribution,
        GitHubPublisher,
        GitLabPublisher,
        GooglePublisher,
    )
    from pypi_attestations import Publisher as _ClaimedPublisher
    from sigstore.verify import policy as sigstore_policy

    _Policy: TypeAlias = sigstore_policy.AllOf | sigstore_policy.Identity

ATTESTATION_SUFFIXES = (".provenance", ".attestation", ".sigstore", ".sigstore.json")
"""A file `<dist file name>.<anything>` ending in one of these is an attestation candidate."""
DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")
INTEGRITY_MEDIA_TYPE = "application/vnd.pypi.integrity.v1+json"
DEFAULT_INDEX_URL = DEFAULT_PYPI_URL
MAX_ATTESTATION_BYTES = 4 << 20
"""Real attestations are ~10 KB; anything bigger is not one and is not read whole."""
MAX_DIRECTORY_FILES = 100_000
ABSENT_TTL_SECONDS = 24 * 3600
"""A 404 is cached for a day (present provenance never changes: PyPI files are immutable)."""

_GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
_GITLAB_ISSUER = "https://gitlab.com"
_GOOGLE_ISSUER = "https://accounts.google.com"
_OID_ISSUER = "1.3.6.1.4.1.57264.1.8"
_OID_SOURCE_REPOSITORY_URI = "1.3.6.1.4.1.57264.1.12"
_OID_SOURCE_REPOSITORY_REF = "1.3.6.1.4.1.57264.1.14"
_OID_BUILD_CONFIG_URI = "1.3.6.1.4.1.57264.1.18"

PublisherKind = Literal["github", "gitlab", "google"]


class _DropOfflineNotice(logging.Filter):
    """sigstore logs a warning on every offline verification; offline is our default."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "offline mode" not in record.getMessage()


# Naming the logger does not import sigstore: sigstore's own getLogger(__name__) later
# returns this same logger, filter attached.
logging.getLogger("sigstore._internal.tuf").addFilter(_DropOfflineNotice())


@dataclass(frozen=True, slots=True)
class PublisherSpec:
    """A trusted publisher an artifact must come from (from the provenance policy)."""

    kind: PublisherKind
    repository: str | None = None
    """`owner/repo` (GitHub) or `namespace/project` (GitLab); None for Google."""
    workflow: str | None = None
    """GitHub: the workflow file name (`release.yml`); GitLab: the CI file path
    (`.gitlab-ci.yml`). None = any workflow of the repository."""
    environment: str | None = None
    """Deployment environment; checked against PyPI's publisher claim where there is one
    (Fulcio certificates do not carry it)."""
    email: str | None = None
    """Google: the service account's email."""

    def describe(self) -> str:
        """The identity in the same spelling as `Verified.identity`."""
        if self.kind == "google":
            return f"google:{self.email}"
        if self.kind == "github":
            path = f".github/workflows/{self.workflow}" if self.workflow else "*"
        else:
            path = self.workflow or "*"
        text = f"{self.kind}:{self.repository}@{path}"
        return f"{text} (environment {self.environment})" if self.environment else text

    def as_identity(self) -> GitHubPublisher | GitLabPublisher | GooglePublisher | _Policy:
        """What `Attestation.verify` takes for this publisher."""
        from pypi_attestations import GitHubPublisher, GitLabPublisher, GooglePublisher
        from sigstore.verify import policy as sigstore_policy

        if self.kind == "google":
            return GooglePublisher(email=self.email or "")
        repository = self.repository or ""
        if self.kind == "github":
            if self.workflow:
                return GitHubPublisher(repository=repository, workflow=self.workflow)
            return sigstore_policy.AllOf(
                [
                    sigstore_policy.OIDCIssuerV2(_GITHUB_ISSUER),
                    sigstore_policy.OIDCSourceRepositoryURI(f"https://github.com/{repository}"),
                ]
            )
        if self.workflow:
            return GitLabPublisher(repository=repository, workflow_filepath=self.workflow)
        return sigstore_policy.AllOf(
            [
                sigstore_policy.OIDCIssuerV2(_GITLAB_ISSUER),
                sigstore_policy.OIDCSourceRepositoryURI(f"https://gitlab.com/{repository}"),
            ]
        )


@dataclass(frozen=True, slots=True)
class FoundAttestation:
    """One attestation obtained for an artifact, or why a candidate could not be read."""

    origin: str
    """The file path or URL it came from."""
    attestation: Attestation | None
    publisher_claim: str | None = None
    """PyPI's publisher claim (Provenance objects only), as `GitHub:owner/repo@wf`."""
    claimed: _ClaimedPublisher | None = None
    claimed_environment: str | None = None
    error: str | None = None
    """Set when the candidate is not a readable attestation (attestation is then None)."""


@dataclass(frozen=True, slots=True)
class Verified:
    """An attestation that verified against the artifact and the expected identity."""

    origin: str
    identity: str
    """Who signed it: `github:owner/repo@.github/workflows/release.yml`, `google:<email>`."""
    predicate_type: str
    ref: str | None = None
    """The git ref the publishing workflow ran on, where the certificate says."""
    environment: str | None = None
    """PyPI's claim of the deployment environment, where there was one."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """An attestation that did not verify, with the reason in plain words."""

    origin: str
    reason: str
    wrong_publisher: bool = False
    """True when the attestation is valid but signed by another identity than required."""
    signed_by: str | None = None
    subject: str | None = None
    """What the attestation claims to attest (`name sha256:...`), for the evidence."""


VerifyOutcome = Verified | Rejected


# --------------------------------------------------------------------------- reading


def parse_attestation_document(data: bytes, origin: str) -> list[FoundAttestation]:
    """Read a Provenance object, an Attestation object or a Sigstore bundle (by content)."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        return [FoundAttestation(origin, None, error=f"not JSON ({err})")]
    if not isinstance(doc, dict):
        return [FoundAttestation(origin, None, error="not a JSON object")]
    import sigstore.errors
    from pydantic import ValidationError
    from pypi_attestations import Attestation, AttestationError, Provenance
    from sigstore.models import Bundle

    try:
        if "attestation_bundles" in doc:
            provenance = Provenance.model_validate(doc)
            found: list[FoundAttestation] = []
            for bundle in provenance.attestation_bundles:
                claim = _describe_claim(bundle.publisher)
                environment = getattr(bundle.publisher, "environment", None)
                found.extend(
                    FoundAttestation(origin, att, claim, bundle.publisher, environment)
                    for att in bundle.attestations
                )
            if not found:
                return [FoundAttestation(origin, None, error="provenance holds no attestation")]
            return found
        if "verification_material" in doc or "envelope" in doc:
            return [FoundAttestation(origin, Attestation.model_validate(doc))]
        if "mediaType" in doc or "verificationMaterial" in doc:
            bundle_obj = Bundle.from_json(data)
            return [FoundAttestation(origin, Attestation.from_bundle(bundle_obj))]
    except ValidationError as err:
        return [FoundAttestation(origin, None, error=_pydantic_reason(err))]
    except (AttestationError, sigstore.errors.Error, ValueError) as err:
        return [FoundAttestation(origin, None, error=plain_reason(err))]
    return [
        FoundAttestation(
            origin,
            None,
            error="neither a PEP 740 attestation, a provenance object nor a Sigstore bundle",
        )
    ]


def read_attestation_file(path: Path) -> list[FoundAttestation]:
    """Read one candidate file; an unreadable file yields a FoundAttestation with `error`."""
    try:
        size = path.stat().st_size
        if size > MAX_ATTESTATION_BYTES:
            return [
                FoundAttestation(
                    str(path), None, error=f"{size} bytes, too large for an attestation"
                )
            ]
        data = path.read_bytes()
    except OSError as err:
        return [FoundAttestation(str(path), None, error=f"cannot read ({err.strerror})")]
    return parse_attestation_document(data, str(path))


def attestation_key(file_name: str) -> str | None:
    """The distribution file name an attestation file belongs to, or None if it is not one."""
    if not file_name.endswith(ATTESTATION_SUFFIXES):
        return None
    for dist_suffix in DIST_SUFFIXES:
        cut = file_name.find(dist_suffix + ".")
        if cut > 0:
            return file_name[: cut + len(dist_suffix)]
    return None


def files_beside(artifact: Path) -> list[Path]:
    """Attestation files next to an artifact (`<file>.publish.attestation`, `<file>.provenance`)."""
    try:
        siblings = sorted(artifact.parent.glob(glob_escape(artifact.name) + ".*"))
    except OSError:
        return []
    return [p for p in siblings if p.is_file() and attestation_key(p.name) == artifact.name]


def glob_escape(text: str) -> str:
    """Escape glob metacharacters in a literal file name."""
    return re.sub(r"([*?\[])", r"[\1]", text)


class AttestationDirectory:
    """A directory of attestations (searched recursively), indexed by distribution file name
    and, on first need, by the sha256 their statements name (for locks that pin hashes
    without file names, as requirements files do)."""

    def __init__(self, root: Path, by_dist: Mapping[str, tuple[Path, ...]]) -> None:
        self.root = root
        self.by_dist = by_dist
        self._by_digest: dict[str, list[str]] | None = None

    @classmethod
    def scan(cls, root: Path) -> AttestationDirectory:
        """Index every attestation file under `root` (bounded; symlinks are not followed)."""
        if not root.is_dir():
            raise SourceError("the attestations directory does not exist", path=str(root))
        index: dict[str, list[Path]] = {}
        seen = 0
        for dirpath, _dirnames, filenames in os.walk(root):
            for name in sorted(filenames):
                seen += 1
                if seen > MAX_DIRECTORY_FILES:
                    raise SourceError(
                        f"more than {MAX_DIRECTORY_FILES} files",
                        path=str(root),
                        hint="point --attestations at the attestations only",
                    )
                key = attestation_key(name)
                if key is not None:
                    index.setdefault(key, []).append(Path(dirpath) / name)
        return cls(root, {k: tuple(sorted(v)) for k, v in index.items()})

    def files_for(self, dist_file_name: str) -> tuple[Path, ...]:
        """Attestation files for one distribution file name."""
        return self.by_dist.get(dist_file_name, ())

    def names_for_digest(self, sha256: str) -> tuple[str, ...]:
        """Distribution file names whose attestation statements name this sha256.

        The statements are not verified here; this only finds candidates, which are
        then verified like any other attestation.
        """
        if self._by_digest is None:
            self._by_digest = {}
            for dist_name, paths in self.by_dist.items():
                for path in paths:
                    for found in read_attestation_file(path):
                        digest = _subject_digest(found.attestation)
                        if digest is not None and dist_name not in self._by_digest.get(digest, []):
                            self._by_digest.setdefault(digest, []).append(dist_name)
        return tuple(self._by_digest.get(sha256.lower(), ()))


def _subject_digest(att: Attestation | None) -> str | None:
    if att is None:
        return None
    try:
        return str(att.statement["subject"][0]["digest"]["sha256"]).lower()
    except (ValueError, TypeError, KeyError, IndexError):
        return None


# --------------------------------------------------------------------------- online


@dataclass(frozen=True, slots=True)
class ReleaseFile:
    """One file of a release, from PyPI's JSON API."""

    filename: str
    packagetype: str
    sha256: str | None
    yanked: bool
    uploaded: str | None = None
    """`upload_time_iso_8601` as PyPI gives it (PEP 700), where it does."""


class IntegrityClient:
    """PyPI's integrity API and JSON API, with an on-disk cache.

    Network failures and malformed answers raise ServiceError: a network source
    that was asked for and cannot answer fails the scan closed.
    """

    def __init__(
        self,
        index_url: str = DEFAULT_INDEX_URL,
        *,
        cache_dir: Path | None = None,
        timeout: float = 15.0,
        session: requests.Session | None = None,
    ) -> None:
        self.index_url = index_url.rstrip("/")
        self.cache_dir = cache_dir
        self.timeout = timeout
        self.session = new_session() if session is None else session
        self.requests_made = 0
        self._memo: dict[tuple[str, ...], bytes | None] = {}
        """Answers already fetched in this run (the disk cache may be off)."""

    def provenance_url(self, project: str, version: str, filename: str) -> str:
        """The integrity API address for one file."""
        parts = (quote(project, safe=""), quote(version, safe=""), quote(filename, safe=""))
        return f"{self.index_url}/integrity/{parts[0]}/{parts[1]}/{parts[2]}/provenance"

    def provenance(self, project: str, version: str, filename: str) -> list[FoundAttestation]:
        """The attestations PyPI holds for a file; [] when it has none (404)."""
        url = self.provenance_url(project, version, filename)
        key = ("integrity", project, version, filename)
        body = self._get(url, key, accept=INTEGRITY_MEDIA_TYPE)
        if body is None:
            return []
        found = parse_attestation_document(body, url)
        if all(f.attestation is None for f in found):
            reason = found[0].error if found else "empty"
            raise ServiceError(
                f"the integrity API returned malformed provenance: {reason}", path=url
            )
        self._cache_write(key, body)  # only what parsed is remembered
        return found

    def release_files(self, project: str) -> dict[str, tuple[ReleaseFile, ...]]:
        """Every release of a project and its files (PyPI JSON API); {} if unknown."""
        url = f"{self.index_url}/pypi/{quote(project, safe='')}/json"
        key = ("json", project)
        body = self._get(url, key, accept="application/json", ttl=3600)
        if body is None:
            return {}
        try:
            releases = json.loads(body)["releases"]
            parsed = {
                str(version): tuple(
                    ReleaseFile(
                        str(f["filename"]),
                        str(f.get("packagetype", "")),
                        (f.get("digests") or {}).get("sha256"),
                        bool(f.get("yanked")),
                        f.get("upload_time_iso_8601") or f.get("upload_time") or None,
                    )
                    for f in files
                )
                for version, files in releases.items()
            }
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise ServiceError(
                f"PyPI's JSON API returned an unexpected document ({err!r})", path=url
            ) from err
        self._cache_write(key, body)
        return parsed

    def _get(
        self, url: str, key: tuple[str, ...], *, accept: str, ttl: float = ABSENT_TTL_SECONDS
    ) -> bytes | None:
        """GET through the cache: the body, or None for a 404 (cached here; a body is
        cached by the caller once it has parsed)."""
        if key in self._memo:
            return self._memo[key]
        cached = self._cache_read(key, ttl)
        if cached is not None:
            return cached[1] if cached[0] else None
        import requests

        self.requests_made += 1
        try:
            response = self.session.get(url, headers={"Accept": accept}, timeout=self.timeout)
        except requests.RequestException as err:
            raise ServiceError(
                f"cannot reach {self.index_url} ({type(err).__name__})",
                path=url,
                hint="check the network or run with --offline",
            ) from err
        if response.status_code == 404:
            self._cache_write(key, None)
            self._memo[key] = None
            return None
        if response.status_code != 200:
            raise ServiceError(
                f"HTTP {response.status_code}", path=url, hint="retry later or run with --offline"
            )
        return response.content

    def _cache_path(self, key: tuple[str, ...]) -> Path | None:
        if self.cache_dir is None:
            return None
        safe = [quote(part, safe="") or "_" for part in key]
        return self.cache_dir.joinpath(*safe[:-1], safe[-1] + ".json")

    def _cache_read(self, key: tuple[str, ...], ttl: float) -> tuple[bool, bytes] | None:
        path = self._cache_path(key)
        if path is None:
            return None
        try:
            entry = json.loads(path.read_bytes())
            present, fetched = bool(entry["present"]), float(entry["fetched"])
            body = str(entry.get("body") or "").encode()
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or corrupt: fetch again
        # Provenance of a file never changes once present; everything else expires.
        if (not present or key[0] != "integrity") and time.time() - fetched > ttl:
            return None
        return present, body

    def _cache_write(self, key: tuple[str, ...], body: bytes | None) -> None:
        self._memo[key] = body
        path = self._cache_path(key)
        if path is None:
            return
        entry = {
            "present": body is not None,
            "fetched": time.time(),
            "body": body.decode("utf-8", "replace") if body is not None else None,
        }
        tmp: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(entry, fh)
            os.replace(tmp, path)
        except OSError:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            # A cache that cannot be written only costs a refetch next time.


# --------------------------------------------------------------------------- verifying


def verify_attestation(
    found: FoundAttestation,
    filename: str,
    sha256: str,
    expected: Iterable[PublisherSpec] = (),
    *,
    offline: bool = True,
) -> VerifyOutcome:
    """Verify one attestation against an artifact (its file name and sha256).

    The identity is the policy's publisher(s) when given (any one may match),
    else PyPI's publisher claim that came with it, else the identity in its own
    certificate (so a valid signature by anyone still verifies, and the report
    names who that was). `offline=True` uses sigstore's local trust root
    (seeded from the one bundled with sigstore) and makes no network request.
    """
    if found.attestation is None:
        return Rejected(found.origin, f"unreadable attestation: {found.error}")
    from pydantic import ValidationError
    from pypi_attestations import Distribution

    att = found.attestation
    subject = _subject_text(att)
    try:
        dist = Distribution(name=filename, digest=sha256.lower())
    except ValidationError as err:
        return Rejected(found.origin, _pydantic_reason(err), subject=subject)
    specs = tuple(expected)
    if specs:
        reasons = []
        for spec in specs:
            outcome = _verify_once(found, dist, spec.as_identity(), offline=offline)
            if isinstance(outcome, Verified):
                env_error = _environment_mismatch(spec, found)
                if env_error is None:
                    return outcome
                reasons.append(env_error)
            else:
                reasons.append(outcome.reason)
        required = " or ".join(s.describe() for s in specs)
        # Tell "valid but by someone else" apart from "not valid at all".
        actual = _verify_once(found, dist, None, offline=offline)
        if isinstance(actual, Verified):
            signed_by = actual.identity
            if actual.environment:
                signed_by += f" (environment {actual.environment})"
            return Rejected(
                found.origin,
                f"signed by {signed_by}, but the policy requires {required}",
                wrong_publisher=True,
                signed_by=signed_by,
                subject=subject,
            )
        return Rejected(found.origin, "; ".join(dict.fromkeys(reasons)), subject=subject)
    identity = found.claimed if found.claimed is not None else None
    outcome = _verify_once(found, dist, identity, offline=offline)
    if isinstance(outcome, Rejected):
        return Rejected(outcome.origin, outcome.reason, subject=subject)
    return outcome


def _verify_once(
    found: FoundAttestation,
    dist: Distribution,
    identity: GitHubPublisher
    | GitLabPublisher
    | GooglePublisher
    | _Policy
    | _ClaimedPublisher
    | None,
    *,
    offline: bool,
) -> VerifyOutcome:
    import sigstore.errors
    from cryptography import x509
    from pydantic import ValidationError
    from pypi_attestations import AttestationError

    att = found.attestation
    assert att is not None  # callers checked
    try:
        if identity is None:
            identity = _identity_from_certificate(att)
        predicate_type, _predicate = att.verify(identity, dist, offline=offline)
    except sigstore.errors.TUFError as err:
        raise ServiceError(
            f"cannot refresh sigstore's trust root ({err})",
            hint="run with --offline to use the bundled trust root",
        ) from err
    except (
        AttestationError,
        sigstore.errors.Error,
        ValueError,
        x509.ExtensionNotFound,
        ValidationError,
    ) as err:
        return Rejected(found.origin, plain_reason(err))
    claims = _certificate_claims(att)
    return Verified(
        found.origin,
        certificate_identity(att),
        str(predicate_type),
        ref=claims.get(_OID_SOURCE_REPOSITORY_REF),
        environment=found.claimed_environment,
    )


def _environment_mismatch(spec: PublisherSpec, found: FoundAttestation) -> str | None:
    if spec.environment is None or found.claimed_environment is None:
        return None  # nothing to compare: certificates do not carry the environment
    if spec.environment == found.claimed_environment:
        return None
    return (
        f"published from environment {found.claimed_environment!r}, the policy requires "
        f"{spec.environment!r}"
    )


def _identity_from_certificate(att: Attestation) -> GitHubPublisher | GitLabPublisher | _Policy:
    """A policy built from the certificate's own claims (verifies the signature, not who)."""
    from pypi_attestations import AttestationError, GitHubPublisher, GitLabPublisher
    from sigstore.verify import policy as sigstore_policy

    claims = _certificate_claims(att)
    issuer = claims.get(_OID_ISSUER)
    if issuer is None:
        raise AttestationError("the signing certificate names no OIDC issuer")
    if issuer == _GITHUB_ISSUER:
        repository, workflow, _ref = _split_build_config(claims, "https://github.com/", "/")
        prefix = ".github/workflows/"
        if workflow.startswith(prefix):
            return GitHubPublisher(repository=repository, workflow=workflow[len(prefix) :])
        return sigstore_policy.AllOf(
            [
                sigstore_policy.OIDCIssuerV2(issuer),
                sigstore_policy.OIDCSourceRepositoryURI(f"https://github.com/{repository}"),
            ]
        )
    if issuer == _GITLAB_ISSUER:
        repository, workflow, _ref = _split_build_config(claims, "https://gitlab.com/", "//")
        return GitLabPublisher(repository=repository, workflow_filepath=workflow)
    san = _subject_alternative_name(att)
    if san is None:
        raise AttestationError("the signing certificate names no identity")
    return sigstore_policy.Identity(identity=san, issuer=issuer)


def certificate_identity(att: Attestation) -> str:
    """Who the certificate says signed: `github:owner/repo@.github/workflows/release.yml`."""
    from pypi_attestations import AttestationError

    claims = _certificate_claims(att)
    issuer = claims.get(_OID_ISSUER, "")
    try:
        if issuer == _GITHUB_ISSUER:
            repository, workflow, _ = _split_build_config(claims, "https://github.com/", "/")
            return f"github:{repository}@{workflow}"
        if issuer == _GITLAB_ISSUER:
            repository, workflow, _ = _split_build_config(claims, "https://gitlab.com/", "//")
            return f"gitlab:{repository}@{workflow}"
    except AttestationError:
        pass
    san = _subject_alternative_name(att) or "unknown"
    if issuer == _GOOGLE_ISSUER:
        return f"google:{san}"
    kind = "email" if "@" in san and "://" not in san else "uri"
    return f"{kind}:{san} (issuer {issuer or 'unknown'})"


def _split_build_config(
    claims: Mapping[str, str], host: str, separator: str
) -> tuple[str, str, str]:
    """(repository, workflow path, ref) from a Build Config URI claim."""
    from pypi_attestations import AttestationError

    uri = claims.get(_OID_BUILD_CONFIG_URI, "")
    if not uri.startswith(host) or "@" not in uri:
        raise AttestationError(f"unexpected Build Config URI {uri!r} in the certificate")
    location, ref = uri[len(host) :].rsplit("@", 1)
    if separator == "/":  # GitHub: owner/repo/<path>
        owner, _, rest = location.partition("/")
        repo, _, path = rest.partition("/")
        repository = f"{owner}/{repo}"
    else:  # GitLab: namespace/project//<path>
        repository, _, path = location.partition(separator)
    if not repository or not path:
        raise AttestationError(f"unexpected Build Config URI {uri!r} in the certificate")
    return repository, path, ref


def _certificate_claims(att: Attestation) -> dict[str, str]:
    try:
        return att.certificate_claims
    except (ValueError, TypeError):  # a certificate that does not parse has no claims
        return {}


def _subject_alternative_name(att: Attestation) -> str | None:
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(att.verification_material.certificate)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return None
    for general_name in san:
        if isinstance(general_name, x509.RFC822Name | x509.UniformResourceIdentifier):
            return str(general_name.value)
    return None


def _subject_text(att: Attestation) -> str | None:
    """`name sha256:<hex>` of the (unverified) statement, for evidence only."""
    try:
        subjects = att.statement.get("subject") or []
        first = subjects[0]
        return f"{first.get('name')} sha256:{(first.get('digest') or {}).get('sha256')}"
    except (ValueError, TypeError, IndexError, AttributeError):
        return None


def _describe_claim(publisher: _ClaimedPublisher) -> str:
    from pypi_attestations import GitHubPublisher, GitLabPublisher, GooglePublisher

    if isinstance(publisher, GitHubPublisher):
        return f"github:{publisher.repository}@.github/workflows/{publisher.workflow}"
    if isinstance(publisher, GitLabPublisher):
        return f"gitlab:{publisher.repository}@{publisher.workflow_filepath}"
    if isinstance(publisher, GooglePublisher):
        return f"google:{publisher.email}"
    return f"{publisher.kind.lower()}:{publisher.model_dump_json()}"


_EXTENSION_REPR = re.compile(r"<Extension\(oid=.*?value=b'\\x[0-9a-f]{2}.?(\S+?)'\)>\)>")


def plain_reason(err: BaseException) -> str:
    """The library's reason as one plain sentence (no reprs, no prefix, one line)."""
    text = str(err) or type(err).__name__
    text = text.removeprefix("Verification failed: ")
    text = _EXTENSION_REPR.sub(r"\1", text)  # sigstore shows an x509 Extension's repr
    return " ".join(text.split())


def _pydantic_reason(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "document"
    return f"not a PEP 740 attestation: {where}: {first.get('msg', 'invalid')}"
