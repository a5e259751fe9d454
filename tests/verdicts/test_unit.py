"""The content-verdict unit: keys, fingerprints and the verdict's JSON form."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner import verdicts
from scanner.infra.resources import rules_dir
from scanner.models import Severity
from scanner.verdicts import (
    ContentFinding,
    Verdict,
    content_digest,
    fingerprint,
    manifest_digest,
    verdict_key,
)


@pytest.fixture()
def rules_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "rules"
    shutil.copytree(rules_dir(), copy)
    return copy


def key_of(data: bytes, rules: Path) -> str:
    return verdict_key("heuristics", content_digest(data), fingerprint(rules_directory=rules))


def test_equal_bytes_give_equal_keys(rules_copy: Path) -> None:
    a = b"import os\nos.system('id')\n"
    assert key_of(a, rules_copy) == key_of(bytes(bytearray(a)), rules_copy)
    # the same content found elsewhere: keys never depend on where
    assert key_of(a, rules_copy) == key_of(a, rules_copy)


def test_a_one_byte_change_gives_a_new_key(rules_copy: Path) -> None:
    a = b"import os\nos.system('id')\n"
    b = a.replace(b"id", b"ie")
    assert len(a) == len(b)
    assert key_of(a, rules_copy) != key_of(b, rules_copy)


def test_any_rule_file_change_gives_a_new_key(rules_copy: Path) -> None:
    data = b"print('hello')\n"
    before = key_of(data, rules_copy)
    rule = sorted(rules_copy.rglob("WS-*.toml"))[0]
    rule.write_bytes(rule.read_bytes() + b"\n")  # one byte more, meaning unchanged

    verdicts._static_fingerprint.cache_clear()
    after_edit = key_of(data, rules_copy)
    assert after_edit != before
    # an allowlist or catalogue beside the rules counts too, and so does a new file
    (rules_copy / "models" / "extra-allow.toml").write_text("[x]\n")
    verdicts._static_fingerprint.cache_clear()
    assert key_of(data, rules_copy) not in (before, after_edit)


def test_settings_and_parameters_are_part_of_the_key(rules_copy: Path) -> None:
    sha = content_digest(b"x")
    plain = fingerprint(rules_directory=rules_copy)
    allowed = fingerprint({"model_allowlist": ["mypkg.*"]}, rules_directory=rules_copy)
    assert plain != allowed
    assert verdict_key("models", sha, plain) != verdict_key("models", sha, allowed)
    assert verdict_key("models", sha, plain, {"name": "a.pt"}) != verdict_key(
        "models", sha, plain, {"name": "a.bin"}
    )
    assert verdict_key("models", sha, plain) != verdict_key("heuristics", sha, plain)


def test_a_manifest_is_order_free_and_sees_every_file() -> None:
    rows = [("a.py", content_digest(b"a"), 1), ("b/c.py", content_digest(b"c"), 1)]
    assert manifest_digest(rows) == manifest_digest(reversed(rows))
    assert manifest_digest(rows) != manifest_digest(rows[:1])
    renamed = [("a2.py", rows[0][1], 1), rows[1]]
    assert manifest_digest(rows) != manifest_digest(renamed)


texts = st.text(max_size=40)
opt_texts = st.none() | texts
findings = st.builds(
    ContentFinding,
    rule_id=texts,
    severity=st.sampled_from(list(Severity)),
    message=texts,
    member=opt_texts,
    line=st.none() | st.integers(min_value=0, max_value=10**9),
    evidence=opt_texts,
    references=st.tuples(texts) | st.just(()),
    fix=opt_texts,
)


@given(
    kind=texts,
    found=st.lists(findings, max_size=4),
    complete=st.booleans(),
    payload=opt_texts,
)
def test_a_verdict_survives_json_exactly(
    kind: str, found: list[ContentFinding], complete: bool, payload: str | None
) -> None:
    verdict = Verdict(kind, tuple(found), complete=complete, payload=payload)
    text = verdict.to_json()
    back = Verdict.from_json(text)
    assert back == verdict
    assert back.to_json() == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"schema": 99, "kind": "x", "complete": true, "payload": null, "findings": []}',
        '{"schema": 1, "kind": "x", "complete": "yes", "payload": null, "findings": []}',
        '{"schema": 1, "kind": "x", "complete": true, "payload": null, "findings": [[1]]}',
        '{"schema": 1, "kind": "x", "complete": true, "payload": null,'
        ' "findings": [["R", 9, "m", null, null, null, [], null]]}',
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Verdict.from_json(text)
