"""The [tool.wormsign.provenance] table: the shapes accepted and the ones refused."""

from __future__ import annotations

import pytest

from scanner.checks.provenance.attestations import PublisherSpec
from scanner.checks.provenance.settings import (
    ProvenancePolicy,
    Requirement,
    parse_provenance_policy,
)
from scanner.errors import ConfigError


def test_absent_table_is_the_default_policy() -> None:
    policy = parse_provenance_policy(None)
    assert policy == ProvenancePolicy()
    assert policy.requirement_for("anything") is Requirement.IGNORE


def test_full_table() -> None:
    policy = parse_provenance_policy(
        {
            "default": "warn",
            "require": ["Torch", "numpy"],
            "regression": False,
            "index_url": "http://127.0.0.1:8080",
            "refresh-trust-root": True,
            "publishers": {
                "Lightning": {
                    "kind": "github",
                    "repository": "Lightning-AI/pytorch-lightning",
                    "workflow": "release-pypi.yml",
                    "environment": "pypi",
                },
                "gl_pkg": {
                    "kind": "GitLab",
                    "repository": "group/sub/project",
                    "workflow": ".gitlab-ci.yml",
                },
                "gcp": {"kind": "google", "email": "pub@proj.iam.gserviceaccount.com"},
                "moved": [
                    {"kind": "github", "repository": "old/repo"},
                    {"kind": "github", "repository": "new/repo"},
                ],
            },
        }
    )
    assert policy.default is Requirement.WARN
    assert policy.required == frozenset({"torch", "numpy"})
    assert policy.regression is False
    assert policy.refresh_trust_root is True
    assert policy.index_url == "http://127.0.0.1:8080"
    assert policy.publishers["lightning"] == (
        PublisherSpec("github", "Lightning-AI/pytorch-lightning", "release-pypi.yml", "pypi"),
    )
    assert policy.publishers["gl-pkg"][0].kind == "gitlab"
    assert policy.publishers["gcp"][0].describe() == "google:pub@proj.iam.gserviceaccount.com"
    assert [p.repository for p in policy.publishers["moved"]] == ["old/repo", "new/repo"]
    # A named publisher makes the package required; others follow the default.
    assert policy.requirement_for("lightning") is Requirement.REQUIRE
    assert policy.requirement_for("torch") is Requirement.REQUIRE
    assert policy.requirement_for("requests") is Requirement.WARN


def test_describe_names_the_identity_like_the_evidence() -> None:
    spec = PublisherSpec("github", "trailofbits/pypi-attestations", "release.yml")
    assert spec.describe() == "github:trailofbits/pypi-attestations@.github/workflows/release.yml"
    assert PublisherSpec("gitlab", "a/b").describe() == "gitlab:a/b@*"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("require", "must be a table"),
        ({"default": "maybe"}, "default"),
        ({"require": "torch"}, "require"),
        ({"require": ["torch", 3]}, "require"),
        ({"colour": "red"}, "unknown key"),
        ({"regression": "yes"}, "regression"),
        ({"index-url": "ftp://example"}, "index-url"),
        ({"publishers": ["a"]}, "must be a table"),
        ({"publishers": {"x": {"kind": "bitbucket", "repository": "a/b"}}}, "kind"),
        ({"publishers": {"x": {"kind": "github"}}}, "owner/name"),
        (
            {"publishers": {"x": {"kind": "github", "repository": "https://github.com/a/b"}}},
            "owner/name",
        ),
        (
            {
                "publishers": {
                    "x": {
                        "kind": "github",
                        "repository": "a/b",
                        "workflow": ".github/workflows/r.yml",
                    }
                }
            },
            "file name",
        ),
        (
            {"publishers": {"x": {"kind": "github", "repository": "a/b", "email": "e@x"}}},
            "unknown key",
        ),
        ({"publishers": {"x": {"kind": "google"}}}, "email"),
        (
            {"publishers": {"x": {"kind": "github", "repository": "a/b", "workflow": 1}}},
            "non-empty string",
        ),
        ({"publishers": {"x": []}}, "at least one"),
    ],
)
def test_bad_shapes_raise_config_error(raw: object, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_provenance_policy(raw)
    assert fragment in caught.value.diagnostics()
    assert "\n" not in caught.value.diagnostics()


def test_config_file_is_named_in_the_error() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_provenance_policy({"default": "always"}, path="pyproject.toml")
    assert caught.value.diagnostics().startswith("pyproject.toml: [tool.wormsign.provenance.")


def test_any_mapping_is_accepted() -> None:
    from types import MappingProxyType

    policy = parse_provenance_policy(MappingProxyType({"default": "require"}))
    assert policy.default is Requirement.REQUIRE
