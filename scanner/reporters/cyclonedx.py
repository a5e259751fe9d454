"""CycloneDX 1.6 JSON: what was scanned as components, advisories as vulnerabilities.

Made with cyclonedx-python-lib (as pip-audit does), so the document follows the schema
the library ships. Components: every package a lock pins or an environment has installed
(one per name and version, `pkg:pypi/name@version`, with the hashes the locks pin and the
places it was seen as properties), every wheel or sdist (its sha256) and every model file.
The scanned lock files and environments are the metadata's properties. Vulnerabilities:
one per advisory id among the WS-ADV-VULN / WS-ADV-MAL findings, its rating from the
finding's severity, affecting each component it was found in, with the fix version
(the smallest that clears every advisory of the package) as the recommendation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cyclonedx.model import HashAlgorithm, HashType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.impact_analysis import ImpactAnalysisAffectedStatus
from cyclonedx.model.vulnerability import (
    BomTarget,
    BomTargetVersionRange,
    Vulnerability,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from scanner import __version__
from scanner.models import ADVISORY_RULES, Finding, Hash, Inventory, Report, Severity, canonical

_ALGORITHMS = {
    "md5": HashAlgorithm.MD5,
    "sha1": HashAlgorithm.SHA_1,
    "sha256": HashAlgorithm.SHA_256,
    "sha384": HashAlgorithm.SHA_384,
    "sha512": HashAlgorithm.SHA_512,
    "sha3_256": HashAlgorithm.SHA3_256,
    "sha3_512": HashAlgorithm.SHA3_512,
    "blake2b": HashAlgorithm.BLAKE2B_512,
}
_SEVERITIES = {
    Severity.CRITICAL: VulnerabilitySeverity.CRITICAL,
    Severity.HIGH: VulnerabilitySeverity.HIGH,
    Severity.MEDIUM: VulnerabilitySeverity.MEDIUM,
    Severity.LOW: VulnerabilitySeverity.LOW,
    Severity.INFO: VulnerabilitySeverity.INFO,
}
_OSV_URL = "https://osv.dev/vulnerability/"


@dataclass(slots=True)
class _Package:
    """One name and version, merged over every place it was seen (building state)."""

    name: str
    version: str | None
    hashes: dict[tuple[str, str], None] = field(default_factory=dict)
    places: dict[tuple[str, str], None] = field(default_factory=dict)

    @property
    def purl(self) -> PackageURL:
        return PackageURL(type="pypi", name=self.name, version=self.version)


def _packages(inventory: Inventory) -> dict[tuple[str, str | None], _Package]:
    found: dict[tuple[str, str | None], _Package] = {}

    def add(name: str, version: str | None, place: tuple[str, str], hashes: Iterable[Hash]) -> None:
        key = (canonical(name), version)
        pkg = found.setdefault(key, _Package(*key))
        pkg.places.setdefault(place)
        for h in hashes:
            pkg.hashes.setdefault((h.algorithm.lower(), h.value.lower()))

    for lock in inventory.lockfiles:
        for p in lock.packages:
            add(p.name, p.version, ("wormsign:lockfile", str(lock.path)), p.hashes)
    for env in inventory.environments:
        for d in env.distributions:
            add(d.name, d.version, ("wormsign:site-packages", str(env.site_packages)), ())
    for f in inventory.distribution_files:
        if f.name:
            add(f.name, f.version, (f"wormsign:{f.kind}", str(f.path)), [Hash("sha256", f.sha256)])
    return found


def _hash_types(pairs: Iterable[tuple[str, str]]) -> Iterator[HashType]:
    for algorithm, value in pairs:
        alg = _ALGORITHMS.get(algorithm.replace("-", "").replace("_", ""))
        if alg is None:
            alg = _ALGORITHMS.get(algorithm)
        if alg is not None:
            yield HashType(alg=alg, content=value)


def _component(pkg: _Package) -> Component:
    purl = pkg.purl
    return Component(
        type=ComponentType.LIBRARY,
        name=pkg.name,
        version=pkg.version,
        purl=purl,
        bom_ref=purl.to_string(),
        hashes=list(_hash_types(pkg.hashes)),
        properties=[Property(name=k, value=v) for k, v in pkg.places],
    )


def _metadata(report: Report) -> BomMetaData:
    inv = report.inventory
    props = [Property(name="wormsign:target", value=t) for t in report.targets]
    props += [
        Property(name="wormsign:lockfile", value=f"{lock.path} ({lock.format})")
        for lock in inv.lockfiles
    ]
    for env in inv.environments:
        version = f" (python {env.python_version})" if env.python_version else ""
        props.append(Property(name="wormsign:environment", value=f"{env.site_packages}{version}"))
    props.append(Property(name="wormsign:fail-on", value=report.fail_on.label))
    props.append(Property(name="wormsign:blocked", value=str(report.blocked).lower()))
    meta = BomMetaData(properties=props)
    meta.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="wormsign", version=__version__)
    )
    return meta


def _vulnerabilities(
    findings: Iterable[Finding], refs: dict[tuple[str, str | None], str]
) -> Iterator[Vulnerability]:
    grouped: dict[str, list[Finding]] = {}
    for f in findings:
        if f.rule_id in ADVISORY_RULES and f.references and f.package:
            grouped.setdefault(f.references[0], []).append(f)
    for vid, group in grouped.items():
        first = group[0]
        worst = max(f.severity for f in group)
        targets: dict[str, str | None] = {}
        for f in group:
            ref = refs.get((canonical(f.package or ""), f.version))
            if ref is not None:
                targets.setdefault(ref, f.version)
        fixes = sorted({f"{f.package}=={f.fix_version}" for f in group if f.fix_version})
        if fixes:
            recommendation = f"upgrade to {', '.join(fixes)}"
        else:
            recommendation = first.fix or "no fixed release is known"
        props = [Property(name="wormsign:rule", value=first.rule_id)]
        props += [
            Property(name="wormsign:fixed-version", value=f"{f.package}=={f.fix_version}")
            for f in group
            if f.fix_version
        ]
        yield Vulnerability(
            bom_ref=f"vulnerability:{vid}",
            id=vid,
            source=VulnerabilitySource(name="OSV", url=XsUri(_OSV_URL + vid)),
            references=[
                VulnerabilityReference(
                    id=alias, source=VulnerabilitySource(name="OSV", url=XsUri(_OSV_URL + alias))
                )
                for alias in first.aliases
            ],
            ratings=[
                VulnerabilityRating(
                    source=VulnerabilitySource(name="wormsign"), severity=_SEVERITIES[worst]
                )
            ],
            description=first.message,
            detail=first.evidence,
            recommendation=recommendation,
            affects=[
                BomTarget(
                    ref=ref,
                    versions=[
                        BomTargetVersionRange(
                            version=version, status=ImpactAnalysisAffectedStatus.AFFECTED
                        )
                    ]
                    if version
                    else None,
                )
                for ref, version in targets.items()
            ],
            properties=props,
        )


def build_bom(report: Report) -> Bom:
    """The report as a CycloneDX BOM (components, metadata, vulnerabilities)."""
    packages = _packages(report.inventory)
    components = [_component(p) for p in packages.values()]
    refs = {key: str(c.bom_ref) for key, c in zip(packages, components, strict=True)}
    components.extend(
        Component(
            type=ComponentType.MACHINE_LEARNING_MODEL,
            name=model.path.name,
            bom_ref=f"file:{model.path}",
            properties=[Property(name="wormsign:path", value=str(model.path))],
        )
        for model in report.inventory.model_files
    )
    return Bom(
        components=components,
        metadata=_metadata(report),
        vulnerabilities=list(_vulnerabilities(report.findings, refs)),
    )


def render_cyclonedx(report: Report) -> str:
    """The report as CycloneDX 1.6 JSON text."""
    return JsonV1Dot6(build_bom(report)).output_as_string(indent=2) + "\n"
