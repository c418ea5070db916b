"""One harness for every rule: its own examples, the labelled Caffe runs, and every real log.

Adding a rule adds examples and expectations, not test code.
"""

from __future__ import annotations

import csv
import importlib
import json
import pkgutil

import pytest

import logdoctor.rules as rules_package
from logdoctor.engine import check, diagnose_path, select_rules
from logdoctor.model import Severity
from logdoctor.rules import RULES
from logdoctor.series import Run
from tests.conftest import FIXTURES, parse_text

REQUIRED_SLUGS = {
    "loss-explosion", "loss-divergence", "sudden-nan", "nan-at-start", "lr-nan", "accuracy-collapse",
    "no-learning", "loss-saturation", "layer-blowup", "vanishing-values", "loss-weight-culprit",
    "lr-policy-misconfigured", "pooling-stride-exceeds-kernel", "overfitting", "nan-masked",
    "stopped-by-framework",
}
# labels.json symptom -> the rules that report it ("nan": any finding that names the first nan/inf).
SYMPTOMS = {"plateau": {"no-learning"}, "nan": {"sudden-nan", "nan-at-start", "loss-explosion", "lr-nan"}}


def names_on(text: str, rule_cls) -> list[str]:
    run = Run(parse_text(text).table)
    return [f.name for f in check(run, (rule_cls(),))]


# ---------------------------------------------------------------- meta-tests

def test_the_public_slugs_are_exactly_the_documented_ones():
    assert {r.name for r in RULES} == REQUIRED_SLUGS


def test_codes_are_unique_and_grouped():
    codes = [r.code for r in RULES]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == 5 and c.startswith("LD") and c[2:].isdigit() for c in codes)


def test_every_rule_module_is_registered():
    modules = {m.name for m in pkgutil.iter_modules(rules_package.__path__)} - {"base", "episodes"}
    registered = {r.__module__.rsplit(".", 1)[1] for r in RULES}
    assert modules == registered
    for module in modules:  # one module per rule, named after its slug
        rule = next(r for r in RULES if r.__module__.endswith("." + module))
        assert module == rule.name.replace("-", "_")
        importlib.import_module(f"logdoctor.rules.{module}")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_every_rule_has_docs_and_examples(rule):
    doc = rule.doc()
    assert doc.startswith(f"{rule.code} {rule.name}: ")
    assert "Why it matters" in doc and "What to do" in doc
    assert rule.fires_on and rule.silent_on and rule.advice


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_rule_fires_on_its_examples(rule):
    for example in rule.fires_on:
        assert rule.name in names_on(example, rule), example


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_rule_is_silent_on_its_examples(rule):
    for example in rule.silent_on:
        assert rule.name not in names_on(example, rule), example


# ---------------------------------------------------------------- labelled real Caffe runs

LABELS = json.loads((FIXTURES / "caffe-generated" / "labels.json").read_text())


@pytest.fixture(scope="module")
def diagnosed():
    cache = {}
    rules = select_rules()

    def get(relative):
        if relative not in cache:
            cache[relative] = diagnose_path(str(FIXTURES / relative), rules=rules).report()
        return cache[relative]
    return get


def reported(findings, symptom):
    wanted = SYMPTOMS.get(symptom, {symptom})
    return [f for f in findings if f.name in wanted]


@pytest.mark.parametrize("label", LABELS, ids=lambda label: f"{label['file']}-{label['scenario']}")
def test_labelled_runs_get_what_they_expect_and_nothing_they_forbid(label, diagnosed):
    findings = diagnosed(f"caffe-generated/{label['file']}").findings
    for symptom in label["expect"]:
        assert reported(findings, symptom), f"{symptom} expected"
    names = {f.name for f in findings}
    for symptom in label["forbid"]:
        if symptom == "nan":
            assert not any(f.severity is Severity.ERROR for f in findings if f.name in SYMPTOMS["nan"])
        else:
            assert not (names & SYMPTOMS.get(symptom, {symptom})), f"{symptom} forbidden"
    if label["first_bad_line"] is not None:  # reported at or before the first evidence
        lines = [f.line for s in label["expect"] for f in reported(findings, s)]
        assert lines and min(lines) <= label["first_bad_line"]
    if not label["expect"]:
        assert not [f for f in findings if f.severity >= Severity.WARNING]


# Where each labelled run must be reported (line, step): exact places, checked by hand against the logs.
EXACT = [
    ("r02.log", "loss-explosion", 323, 5),
    ("r03.log", "lr-nan", 313, 0),
    ("r03.log", "lr-policy-misconfigured", 7, None),
    ("r04.log", "sudden-nan", 434, 350),
    ("r05.log", "layer-blowup", 648, 1),
    ("r05.log", "loss-explosion", 660, 1),
    ("r06.log", "loss-explosion", 451, 5),
    ("r06.log", "loss-weight-culprit", 453, 5),
    ("r07.log", "nan-at-start", 347, 0),
    ("r07.log", "pooling-stride-exceeds-kernel", 73, None),
    ("r08.log", "no-learning", 320, 0),
    ("r09.log", "vanishing-values", 1522, 0),
    ("r13.log", "overfitting", 437, 400),
    ("r14.log", "loss-explosion", 279, 2),
    ("r15.log", "sudden-nan", 434, 350),
    ("r16.log", "sudden-nan", 351, 10),
    ("r17.log", "loss-explosion", 523, 610),
    ("r17.log", "lr-policy-misconfigured", 9, None),
    ("r18.log", "lr-policy-misconfigured", 7, None),
]


@pytest.mark.parametrize("file, name, line, step", EXACT)
def test_findings_point_at_the_exact_line_and_step(file, name, line, step, diagnosed):
    found = [(f.line, f.step) for f in diagnosed(f"caffe-generated/{file}").findings if f.name == name]
    assert found == [(line, step)]


# ---------------------------------------------------------------- every real log of the manifest

MANIFEST = list(csv.DictReader(open(FIXTURES / "MANIFEST.tsv"), delimiter="\t"))


@pytest.mark.parametrize("entry", MANIFEST, ids=lambda e: e["file"])
def test_real_logs_errors_only_where_training_really_went_bad(entry, diagnosed):
    findings = diagnosed(entry["file"]).findings
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if entry["diverges"] == "yes":
        assert errors, "a run that went bad must get an error"
        assert min(f.line for f in errors) <= int(entry["first_bad_line"])
    else:
        assert not errors, [(f.name, f.line, f.message) for f in errors]


GENERATED_HEALTHY = sorted(
    str(p.relative_to(FIXTURES)) for pattern in ("*healthy*.log", "*noisy*.log", "*midval*.log", "*tworuns*.log")
    for p in FIXTURES.glob(f"*-generated/{pattern}"))
HEALTHY = [e["file"] for e in MANIFEST if "healthy" in e["notes"].lower() and e["diverges"] == "no"] + [
    f"caffe-generated/{label['file']}" for label in LABELS if not label["expect"]] + GENERATED_HEALTHY


@pytest.mark.parametrize("relative", HEALTHY)
def test_healthy_runs_get_no_warning_either(relative, diagnosed):
    findings = diagnosed(relative).findings
    assert not [f for f in findings if f.severity >= Severity.WARNING], [(f.name, f.line) for f in findings]


REAL_EXACT = [
    ("caffe/caffenet-benchmark-rmsprop-lr001-unstable.log", "loss-divergence", 1524, 20),
    ("caffe/caffenet-benchmark-rmsprop-lr001-unstable.log", "loss-saturation", 1528, 40),
    ("caffe/caffenet-benchmark-rmsprop-lr001-unstable.log", "lr-policy-misconfigured", 8, None),
    ("hf/hf-trainer-condenser-gradnorm-nan-loss-zero.log", "nan-at-start", 222, 1),
    ("hf/hf-trainer-condenser-gradnorm-nan-loss-zero.log", "nan-masked", 222, 1),
    ("hf/hf-trainer-condenser-anomaly-detect-nan-traceback.log", "stopped-by-framework", 313, 2),
    ("lightning/pl2-stderr-earlystopping-messages.log", "stopped-by-framework", 109, None),
    ("keras/keras1-lstm-grid-verbose2-overfit.log", "overfitting", 15, None),
    ("keras-generated/keras3-diverge-v1-pipe.log", "loss-explosion", 2, 4),
    ("lightning-generated/pl2.6-tqdm-divergence-threshold-pipe.log", "loss-explosion", 35, 20),
    ("plain-generated/anomaly-detection-sqrt-nan.log", "sudden-nan", 44, 44),
    ("rules-generated/torch-lstm-collapse.log", "accuracy-collapse", 9, 8),
    ("rules-generated/keras3-lstm-collapse-v2.log", "accuracy-collapse", 33, 256),
    ("rules-generated/keras3-gru-collapse-pinned-v2.log", "loss-saturation", 33, 256),
    ("caffe/googlenet-3loss-2testnets-late-divergence.log", "loss-divergence", 19091, 43640),
    ("caffe/ssd300-resumed-mbox-loss-nan-multigpu.log", "nan-at-start", 5360, 140),
    ("caffe/caffenet-benchmark-adam-lr001-nolearning.log", "no-learning", 1525, 0),
    ("caffe/imagenet-alexnet-loss-stuck-ln1000-no-learning.log", "no-learning", 1824, 120000),
]


@pytest.mark.parametrize("relative, name, line, step", REAL_EXACT)
def test_real_logs_findings_point_at_the_exact_place(relative, name, line, step, diagnosed):
    found = [(f.line, f.step) for f in diagnosed(relative).findings if f.name == name]
    assert (line, step) in found


def test_every_rule_fires_on_a_real_log():
    covered = {name for _, name, _, _ in EXACT} | {name for _, name, _, _ in REAL_EXACT}
    assert covered == REQUIRED_SLUGS
