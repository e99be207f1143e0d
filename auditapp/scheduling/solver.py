"""Auto-schedule: fill a whole wave at once, as many visits as possible, best fit next.

Why an integer program (LP first, then CP-SAT) and not min-cost flow
--------------------------------------------------------------------
Per-day and per-week limits nest (days inside ISO weeks), so on their own they are a
flow network: visit -> shopper-day -> shopper-week -> sink. But "no two overlapping
visits" and "once per store per wave" add, for each shopper, at-most-one groups that
cut across days and across each other, so they are not laminar with the day/week tree:
a flow can break them, and repairing it afterwards loses the optimality guarantee. An
integer program states every rule exactly (formulation.py).

It is solved per connected component of the eligibility graph (cities seldom share
shoppers, so a wave splits into independent, smaller models), in two steps:

1. The LP relaxation, with GLOP (OR-Tools' simplex). This matrix is close to a flow
   matrix, so the LP optimum is usually integral already; an integral LP optimum is an
   optimal schedule, proven, in a fraction of a second.
2. Otherwise OR-Tools CP-SAT (2 workers, fixed seed) solves the integer program from
   the rounded LP solution: the whole component when it is small, else only the visits
   the LP split (everything else held at the LP's integral values). CP-SAT alone finds
   good schedules fast but proves bounds slowly on 10k+ Booleans, so the LP supplies
   the bound: CP-SAT stops once it fills as many visits as the LP allows and its
   preference is within PREFERENCE_TOLERANCE of the LP's. At the time limit the best
   schedule so far is kept; ``Stats.fill_upper_bound`` says how far it can be from
   the best fill.

A last pass adds any visit that still fits, so every unfilled visit has a reason.

Determinism: inputs are sorted by id, GLOP is deterministic, and CP-SAT runs its
interleaved (deterministic) search under a deterministic time limit, so the same input
gives the same schedule on a quiet or a busy machine; a wall-clock cap of twice the
budget guards against a starved machine, and only if it fires can runs differ.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence

from ortools.linear_solver import linear_solver_pb2, pywraplp  # type: ignore[import-untyped]
from ortools.sat.python import cp_model

from auditapp.scheduling.formulation import MAX_PREFERENCE, Component, build
from auditapp.scheduling.load import Load
from auditapp.scheduling.model import Assignment, Candidate, Result, Rules, Stats, VisitSlot
from auditapp.scheduling.pairs import Pair, Screen
from auditapp.scheduling.unfilled import why_unfilled

DEFAULT_TIME_LIMIT_S = 8.0
# A component counts as solved when it fills as many visits as the LP bound allows and
# its preference is within this share of the most preference points it could hold.
PREFERENCE_TOLERANCE = 0.002
# Up to this many pairs CP-SAT gets the whole component; above, only the visits the LP
# split (the rest held at the LP's values), which it can finish within seconds.
WHOLE_MODEL_PAIRS = 3000
_INTEGRAL = 1e-6


def auto_schedule(
    visits: Sequence[VisitSlot],
    candidates: Sequence[Candidate],
    rules: Rules | None = None,
    *,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    workers: int = 2,
    seed: int = 0,
) -> Result:
    """Assign shoppers to ``visits`` under every hard rule; see the module docstring.

    ``time_limit_s`` bounds the whole call (roughly: CP-SAT's share is measured in
    deterministic time, which tracks seconds on an idle machine).
    """
    began = time.perf_counter()
    rules = rules or Rules()
    vs = sorted(visits, key=lambda v: v.id)
    cs = sorted(candidates, key=lambda c: c.id)
    _require_unique([v.id for v in vs], "visit")
    _require_unique([c.id for c in cs], "candidate")

    screen = Screen(cs, rules) if cs else None
    pairs_of = [screen.pairs(vi, v) if screen else [] for vi, v in enumerate(vs)]
    components = _components(pairs_of, len(cs))
    chosen: dict[int, Pair] = {}
    optimal = bound = 0
    left = sum(len(pairs_of[vi]) for comp in components for vi in comp)
    for comp in components:  # smallest first, so unused time flows to the larger ones
        pairs = [p for vi in comp for p in pairs_of[vi]]
        budget = max(0.1, (time_limit_s - (time.perf_counter() - began)) * len(pairs) / left)
        left -= len(pairs)
        model = build(comp, pairs, vs, cs, rules)
        picked, proven, comp_bound = _solve(model, vs, cs, rules, budget, workers, seed)
        chosen.update((pairs[k].visit, pairs[k]) for k in picked)
        optimal += proven
        bound += comp_bound

    loads = [Load(c, rules) for c in cs]
    for vi in sorted(chosen):
        loads[chosen[vi].shopper].add(vs[vi])
    _fill_gaps(range(len(vs)), pairs_of, vs, chosen, loads)

    assignments = tuple(
        Assignment(vs[vi].id, cs[p.shopper].id, p.preference) for vi, p in sorted(chosen.items())
    )
    unfilled = tuple(
        why_unfilled(vs[vi], pairs_of[vi], screen, loads)
        for vi in range(len(vs))
        if vi not in chosen
    )
    stats = Stats(
        visits=len(vs),
        candidates=len(cs),
        eligible_pairs=sum(len(p) for p in pairs_of),
        filled=len(assignments),
        components=len(components),
        optimal_components=optimal,
        fill_upper_bound=max(bound, len(assignments)),
        preference_total=sum(a.preference for a in assignments),
        seconds=round(time.perf_counter() - began, 3),
    )
    return Result(assignments, unfilled, stats)


def _require_unique(ids: list[int], what: str) -> None:
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dupes:
        raise ValueError(f"duplicate {what} ids: {dupes[:5]}")


def _components(pairs_of: list[list[Pair]], n_shoppers: int) -> list[list[int]]:
    """Visits that share shoppers, directly or not (union-find), smallest group first."""
    parent = list(range(len(pairs_of) + n_shoppers))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for vi, pairs in enumerate(pairs_of):
        for p in pairs:
            a, b = find(vi), find(len(pairs_of) + p.shopper)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for vi, pairs in enumerate(pairs_of):
        if pairs:
            groups.setdefault(find(vi), []).append(vi)
    comps = list(groups.values())
    comps.sort(key=lambda comp: (sum(len(pairs_of[vi]) for vi in comp), comp[0]))
    return comps


def _fill_gaps(
    order: Sequence[int],
    pairs_of: Sequence[Sequence[Pair]],
    vs: Sequence[VisitSlot],
    chosen: dict[int, Pair],
    loads: Sequence[Load],
) -> None:
    """Give each still-empty visit (in ``order``) its best shopper who is still free."""
    for vi in order:
        if vi in chosen:
            continue
        for p in sorted(pairs_of[vi], key=lambda p: (-p.preference, p.shopper)):
            if loads[p.shopper].blocker(vs[vi]) is None:
                loads[p.shopper].add(vs[vi])
                chosen[vi] = p
                break


def _round(
    model: Component, values: Sequence[float], vs: list[VisitSlot], cs: list[Candidate], r: Rules
) -> list[int]:
    """A feasible schedule near an LP solution: take pairs by LP value, skip any that no
    longer fit, then fill what is left greedily."""
    order = sorted(
        range(len(model.pairs)),
        key=lambda k: (-round(values[k], 6), -model.pairs[k].preference, k),
    )
    loads = {p.shopper: Load(cs[p.shopper], r) for p in model.pairs}
    taken: set[int] = set()
    picked: list[int] = []
    for k in order:
        p = model.pairs[k]
        if p.visit not in taken and loads[p.shopper].blocker(vs[p.visit]) is None:
            loads[p.shopper].add(vs[p.visit])
            taken.add(p.visit)
            picked.append(k)
    return sorted(picked)


def _solve_lp(model: Component) -> tuple[list[float], float]:
    """The LP relaxation with GLOP: (x values, optimal objective).

    Built as a protobuf in bulk (one ``extend`` per row), which is many times faster
    than adding coefficients one call at a time.
    """
    request = linear_solver_pb2.MPModelRequest()
    request.solver_type = linear_solver_pb2.MPModelRequest.GLOP_LINEAR_PROGRAMMING
    lp = request.model
    lp.maximize = True
    n = len(model.pairs)
    for k in range(n):
        lp.variable.add(lower_bound=0.0, upper_bound=1.0, objective_coefficient=model.gain(k))
    for ks, limit in model.groups:
        row = lp.constraint.add(lower_bound=-math.inf, upper_bound=float(limit))
        row.var_index.extend(ks)
        row.coefficient.extend([1.0] * len(ks))
    for i, ks in enumerate(model.loads):
        lp.variable.add(
            lower_bound=0.0, upper_bound=math.inf, objective_coefficient=-model.fairness_weight
        )
        row = lp.constraint.add(lower_bound=-math.inf, upper_bound=float(model.fair_share))
        row.var_index.extend([*ks, n + i])
        row.coefficient.extend([1.0] * len(ks) + [-1.0])
    response = linear_solver_pb2.MPSolutionResponse()
    pywraplp.Solver.SolveWithProto(request, response)
    if response.status != linear_solver_pb2.MPSOLVER_OPTIMAL:  # pragma: no cover
        raise RuntimeError("the LP relaxation did not solve")  # x = 0 is always feasible
    return list(response.variable_value[:n]), response.objective_value


class _StopWhenGoodEnough(cp_model.CpSolverSolutionCallback):
    """Stop once a schedule fills as many visits as the LP allows and its preference is
    within the tolerance of the LP bound: the last points are not worth the wait."""

    def __init__(self, model: Component, target: int, fill_bound: int) -> None:
        super().__init__()
        self.model, self.target, self.fill_bound = model, target, fill_bound

    def on_solution_callback(self) -> None:
        value = round(self.objective_value)
        if self.model.filled_bound(value) >= self.fill_bound and value >= self.target:
            self.stop_search()


def _solve_cpsat(
    model: Component,
    hint: list[int],
    fixed: dict[int, bool],
    good_enough: int,
    fill_bound: int,
    budget: float,
    workers: int,
    seed: int,
) -> tuple[list[int], bool]:
    """CP-SAT on the integer program, with the ``fixed`` pairs held at the LP's integral
    values: (chosen pair indices, proven optimal for the whole component)."""
    cp = cp_model.CpModel()
    x = [
        cp.new_constant(int(fixed[k])) if k in fixed else cp.new_bool_var(f"x{k}")
        for k in range(len(model.pairs))
    ]
    for ks, limit in model.groups:
        if limit == 1:
            cp.add_at_most_one(x[k] for k in ks)
        else:
            cp.add(cp_model.LinearExpr.sum([x[k] for k in ks]) <= limit)
    excess = []
    for i, ks in enumerate(model.loads):
        e = cp.new_int_var(0, len(ks), f"excess{i}")
        cp.add(cp_model.LinearExpr.sum([x[k] for k in ks]) - e <= model.fair_share)
        excess.append(e)
    gains = [model.gain(k) for k in range(len(model.pairs))]
    cp.maximize(
        cp_model.LinearExpr.weighted_sum(x, gains)
        - model.fairness_weight * cp_model.LinearExpr.sum(excess)
    )
    hinted = set(hint)
    for k, var in enumerate(x):
        if k not in fixed:
            cp.add_hint(var, k in hinted)

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.interleave_search = True
    solver.parameters.max_deterministic_time = budget
    solver.parameters.max_time_in_seconds = 2 * budget + 1
    status = solver.solve(cp, _StopWhenGoodEnough(model, good_enough, fill_bound))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return hint, False
    picked = [k for k, var in enumerate(x) if solver.boolean_value(var)]
    if model.objective(picked) < model.objective(hint):
        return hint, False
    whole = not fixed and status == cp_model.OPTIMAL  # CP-SAT proved it on its own
    return picked, whole or model.objective(picked) >= good_enough


def _solve(
    model: Component,
    vs: list[VisitSlot],
    cs: list[Candidate],
    rules: Rules,
    budget: float,
    workers: int,
    seed: int,
) -> tuple[list[int], int, int]:
    """One component: (chosen pair indices, 1 if proven optimal, bound on filled visits)."""
    values, lp_objective = _solve_lp(model)
    rounded = _round(model, values, vs, cs, rules)
    # The LP optimum bounds every schedule (up to GLOP's tolerance, far below one point).
    fill_bound = model.filled_bound(lp_objective + 0.5)
    tolerance = int(PREFERENCE_TOLERANCE * MAX_PREFERENCE * len(model.visits))
    good_enough = int(lp_objective + 0.5 - tolerance)
    fractional = [k for k, v in enumerate(values) if _INTEGRAL < v < 1 - _INTEGRAL]
    if not fractional and model.objective(rounded) >= good_enough:
        return rounded, 1, fill_bound
    free = _neighbourhood(model, fractional) if len(model.pairs) > WHOLE_MODEL_PAIRS else set()
    fixed = {k: values[k] > 0.5 for k in range(len(model.pairs)) if free and k not in free}
    picked, proven = _solve_cpsat(
        model, rounded, fixed, good_enough, fill_bound, budget, workers, seed
    )
    return picked, int(proven), max(fill_bound, len(picked))


def _neighbourhood(model: Component, fractional: list[int]) -> set[int]:
    """Pairs left free for CP-SAT: every pair of a visit the LP split between shoppers.
    (Freeing their shoppers' other pairs too made models too large to improve in time.)
    An empty set means "no neighbourhood: solve the whole component"."""
    visits = {model.pairs[k].visit for k in fractional}
    return {k for k, p in enumerate(model.pairs) if p.visit in visits}
