"""LD401 lr-policy-misconfigured: solver settings that will produce a bad learning rate.

What it detects, in the solver parameters printed at the top of a Caffe log:
``poly`` without ``max_iter`` (the rate is ``(1 - iter/0)^power``: nan, then inf)
or without ``power``; ``step``/``sigmoid`` without ``stepsize``; ``multistep`` without
``stepvalue``; a decaying policy without ``gamma`` (Caffe's default 0 sets the rate
to zero) or with ``gamma`` > 1 (the rate grows at every step); a ``base_lr`` that
is zero, negative, or absurdly high.

Why it matters: the schedule is wrong before the first iteration; the run will
blow up, stop learning, or never start, and the log only shows it later.

What to do: set the parameters the policy needs (see Caffe's ``SGDSolver::GetLearningRate``).
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

from logdoctor.model import Finding, Severity
from logdoctor.rules.base import Rule
from logdoctor.series import Run, fmt

DECAYING = ("step", "exp", "inv", "multistep", "sigmoid")


def schedule_problems(settings: dict[str, tuple[float, str, int]], base_lr_max: float = 100.0) -> list[tuple[str, int]]:
    """What is wrong with a Caffe solver's learning-rate settings: (explanation, line) pairs."""
    if "lr_policy" not in settings:
        return []
    _, policy, policy_line = settings["lr_policy"]

    def missing(key: str) -> bool:
        return key not in settings or settings[key][0] == 0

    problems = []
    if policy == "poly":
        if missing("max_iter"):
            problems.append(('lr_policy "poly" without max_iter: the rate is base_lr*(1-iter/0)^power, nan then inf',
                             policy_line))
        if missing("power"):
            problems.append(('lr_policy "poly" without power: power 0 keeps the rate constant', policy_line))
    if policy in ("step", "sigmoid") and missing("stepsize"):
        problems.append((f'lr_policy "{policy}" without stepsize', policy_line))
    if policy == "multistep" and "stepvalue" not in settings:
        problems.append(('lr_policy "multistep" without stepvalue: the rate never changes', policy_line))
    if policy == "inv" and missing("power"):
        problems.append(('lr_policy "inv" without power', policy_line))
    if policy in DECAYING:
        if "gamma" not in settings or settings["gamma"][0] == 0:
            problems.append((f'lr_policy "{policy}" without gamma: gamma 0 drops the rate to zero', policy_line))
        elif settings["gamma"][0] > 1 and policy in ("step", "exp", "multistep"):
            value, _, line = settings["gamma"]
            problems.append((f'lr_policy "{policy}" with gamma {fmt(value)} > 1: the rate grows at every step',
                             line))
    if "base_lr" in settings:
        value, _, line = settings["base_lr"]
        if value <= 0:
            problems.append((f"base_lr {fmt(value)}: nothing can be learnt", line))
        elif value >= base_lr_max:
            problems.append((f"base_lr {fmt(value)} is absurdly high", line))
    return problems


@dataclasses.dataclass(frozen=True)
class LrPolicyMisconfigured(Rule):
    base_lr_max: float = 100.0   # a base_lr at or above this is absurd for any solver

    code = "LD401"
    name = "lr-policy-misconfigured"
    severity = Severity.WARNING
    advice = "Set every parameter the learning-rate policy needs, with sensible values, in the solver prototxt."
    fires_on = (
        'I0101 00:00:00.0 1 solver.cpp:45] Initializing solver from parameters: \nbase_lr: 0.01\n'
        'lr_policy: "poly"\npower: 0.5\nI0101 00:00:00.1 1 solver.cpp:1] Iteration 0, loss = 1.6\n',
    )
    silent_on = (
        'I0101 00:00:00.0 1 solver.cpp:45] Initializing solver from parameters: \nbase_lr: 0.01\nmax_iter: 100\n'
        'lr_policy: "poly"\npower: 0.5\nI0101 00:00:00.1 1 solver.cpp:1] Iteration 0, loss = 1.6\n',
    )

    def check(self, run: Run) -> Iterator[Finding]:
        problems = schedule_problems(run.settings, self.base_lr_max)
        if not problems:
            return
        text, line = problems[0]
        message = "; ".join(t for t, _ in problems)
        yield self.finding(message, line=line, metric="lr", evidence=[ln for _, ln in problems])
