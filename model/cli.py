"""Command line: ``yichun-abm run | validate | show | bench``.

Bad input (a missing or malformed scenario, an unknown key, a value out of range) prints one
line naming the file and key and exits with code 2, before anything is written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import sys
import threading
import time
from pathlib import Path
from typing import NoReturn

import yaml

from model.errors import InputError
from model.outputs import check_folder, claim
from model.paths import BASELINE, POSTERIOR_DIR, PROJECT_ROOT, results_dir

DEFAULT_CALIBRATION = PROJECT_ROOT / "calibration" / "default.yaml"


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _progress(enabled: bool):
    def wrap(iterable, total):
        if not enabled or total <= 1:
            return iterable
        from tqdm import tqdm

        return tqdm(iterable, total=total, unit="run", desc="replications", file=sys.stderr)

    return wrap


def resolve_posterior(scenario, choice: str | None) -> Path | None:
    """The posterior folder a run draws parameters from: --posterior, else the scenario's
    ``calibration`` (a name under calibration/posterior/, or a path); 'none' for no draws."""
    name = choice if choice is not None else scenario.spec.calibration
    if name is None or name == "none":
        return None
    path = Path(name)
    if len(path.parts) == 1 and not path.exists():
        path = POSTERIOR_DIR / name
    if not (path / "draws.json").is_file():
        file, key = ("--posterior", None) if choice is not None else (scenario.files[-1], "calibration")
        raise InputError(file, key, f"no posterior draws at {path} "
                         "(run `yichun-abm calibrate`, or pass --posterior none)")
    return path


def check_resume(folder: Path, scenario_hash: str, seed: int, replications: int) -> None:
    """A folder may only be resumed by the same scenario and seed (its stamp, ensemble.json,
    is written before anything else), and never with fewer replications than it holds (the
    tables would be rewritten from part of them)."""
    stamp = folder / "ensemble.json"
    held = sorted((folder / "replications").glob("rep_*.npz"))
    if not stamp.exists():
        if held:
            raise InputError(folder, None, "holds replications but no ensemble.json stamp, so "
                             "whose they are is unknown; choose another --out or delete it")
        return
    from model.yamlio import read_json

    old = read_json(stamp, "ensemble stamp")
    if old.get("scenario_hash") != scenario_hash or old.get("seed") != seed:
        raise InputError(folder, None,
                         "folder holds replications of another scenario or seed "
                         f"(hash {old.get('scenario_hash')}, seed {old.get('seed')}); "
                         "choose another --out or delete it")
    beyond = [p for p in held if int(p.stem[4:]) >= replications]
    if beyond:
        raise InputError(folder, None, f"holds {len(held)} replications; rerun with "
                         f"--replications {len(held)} or more (the tables cover them all), or "
                         "choose another --out")


def cmd_run(args: argparse.Namespace) -> int:
    from model.analysis.targets import load_targets, percent
    from model.calibration.abc import load_draws
    from model.reporting.figures import write_figures
    from model.reporting.report import write_target_tables
    from model.reporting.summary import write_summary
    from model.reporting.tables import manifest, write_manifest, write_tables
    from model.runner import load_replications, run_ensemble
    from model.scenario import load_scenario
    from model.yamlio import write_json_atomic

    check_data_files()
    scenario = load_scenario(args.scenario)
    seed = scenario.spec.run.seed if args.seed is None else args.seed
    replications = args.replications or scenario.spec.run.replications
    folder = Path(args.out) if args.out else results_dir() / scenario.name
    posterior = resolve_posterior(scenario, args.posterior)
    draws = load_draws(posterior) if posterior else None
    identity = scenario.digest() + (f"+{file_digest(posterior / 'draws.json')}" if posterior else "")
    check_folder(folder, "run")
    check_resume(folder, identity, seed, replications)
    compile_once(quiet=args.quiet)
    claim(folder, "run")
    write_json_atomic(folder / "ensemble.json", {"scenario_hash": identity, "seed": seed})
    start = time.perf_counter()
    ran = run_ensemble(scenario, folder / "replications", replications, seed,
                       workers=args.workers, draws=draws, progress=_progress(not args.quiet),
                       executor=args.executor, scheduler=args.scheduler,
                       identity=f"{identity}:{seed}")
    reps = load_replications(folder / "replications", replications, f"{identity}:{seed}")
    write_tables(folder, reps)
    figures = write_figures(folder, reps)
    rows = write_target_tables(folder, scenario, reps, figures, draws)
    wall = time.perf_counter() - start
    posterior_info = ({"folder": str(posterior), "draws": len(draws),
                       "draws_sha256": file_digest(posterior / "draws.json"),
                       "rule": "replication i uses posterior draw i mod draws"}
                      if posterior else None)
    write_manifest(folder, manifest(scenario, seed, reps, args.workers, wall,
                                    {"figures": figures, "replications_run_now": len(ran),
                                     "posterior": posterior_info}))
    write_summary(folder)
    print(f"{scenario.name}: {replications} replication(s) ({len(ran)} run now) in {wall:.1f} s "
          f"-> {folder}")
    headline = {r["target"]: r for r in rows}
    zh = {t.id: t.description_zh for t in load_targets().targets}
    for key in ("revenue_cagr_2023_2026", "revenue_2026_on_9pct_path", "lithium_revenue",
                "above_scale_firms"):
        r = headline[key]
        print(f"  {zh.get(key, '')}\n  P({r['description']}) = {percent(r['probability'])} "
              f"[{percent(r['probability_low'])}, {percent(r['probability_high'])}]; "
              f"2026年中位数 median 2026 {r['median_2026']:.4g} vs 目标 target "
              f"{r['target_value']:g}")
    print(f"  一页摘要 one-page summary: {folder / 'summary.html'}")
    return 0


def compile_once(quiet: bool = False) -> None:
    """On the first run after installing, compile the model's loops (numba) here, once, with a
    message, so the workers load them from the cache instead of each compiling them silently
    while the progress bar sits at 0."""
    from model.jit import cache_is_warm

    if cache_is_warm():
        return
    from model.economy import YichunModel

    start = time.perf_counter()
    if not quiet:
        print("compiling the model's loops (numba; once after installing, 10-30 s)...",
              file=sys.stderr, flush=True)
    YichunModel(population_scale=0.05, seed=0).run(13).release()
    if not quiet:
        print(f"compiled in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)


def check_data_files() -> None:
    """The model's own data (the facts with their national context, the anchor firms) read and
    checked before anything is written: a bad entry is a one-line error, exit 2."""
    from model.anchors import load_anchors
    from model.facts import load_facts

    load_facts()
    load_anchors()


def cmd_validate(args: argparse.Namespace) -> int:
    from model.scenario import load_scenario

    check_data_files()
    for path in args.files:
        scenario = load_scenario(path)
        print(f"{path}: ok (scenario '{scenario.name}', hash {scenario.digest()})")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from model.calibration.abc import load_draws
    from model.scenario import load_scenario

    scenario = load_scenario(args.file)
    posterior = resolve_posterior(scenario, None)
    drawn = set(load_draws(posterior)[0]) - set(scenario.spec.parameters) if posterior else set()
    resolved = {
        "scenario": scenario.spec.model_dump(mode="json", exclude={"parameters"}),
        "files": [str(p) for p in scenario.files],
    }
    print(yaml.safe_dump(resolved, allow_unicode=True, sort_keys=False), end="")
    print("parameters:" + (f"  # '← posterior': runs replace the value shown (the default) with a "
                           f"draw from {posterior}" if drawn else ""))
    for name, value in scenario.parameters.as_dict().items():
        text = yaml.safe_dump({name: value}, allow_unicode=True, sort_keys=False,
                              default_flow_style=True, width=1000).strip()[1:-1]
        print(f"  {text}" + ("  # ← posterior" if name in drawn else ""))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from model.analysis.compare import compare

    folders = [Path(f) for f in args.runs]
    out = Path(args.out) if args.out else results_dir() / ("compare_" + "_vs_".join(
        f.name for f in folders))
    check_folder(out, "compare")
    compare(folders, out)
    print(f"comparison of {len(folders)} runs -> {out}")
    return 0


def load_calibration(args: argparse.Namespace):
    """The calibration config with the command line's workers and held-out observations."""
    from model.calibration.abc import Calibration, load_config

    calib = load_config(args.config)
    update = {"workers": args.workers} if args.workers else {}
    exclude, include = getattr(args, "exclude", None), getattr(args, "include", None)
    if exclude or include:
        update.update(exclude=calib.config.exclude + (exclude or []),
                      include=calib.config.include + (include or []))
    return Calibration(calib.config.model_copy(update=update), calib.base) if update else calib


def posterior_folder(args: argparse.Namespace, calib) -> Path:
    if getattr(args, "out", None):
        return Path(args.out)
    return POSTERIOR_DIR / calib.config.name


def cmd_calibrate(args: argparse.Namespace) -> int:
    from model.calibration.abc import run_calibration

    start = time.perf_counter()
    calib = load_calibration(args)
    out = claim(posterior_folder(args, calib), "calibration")
    manifest = run_calibration(calib, out, progress=not args.quiet, executor=args.executor,
                               scheduler=args.scheduler)
    print(f"calibration '{calib.config.name}': {manifest['total_simulations']} simulations "
          f"({manifest['rows_reused']} reused), {manifest['accepted']} accepted, "
          f"{manifest['wall_seconds_this_session'] / 60:.1f} min -> {out}")
    if args.panel:
        from model.calibration.panel import build_panel

        started = time.perf_counter()
        build_panel(calib, out, progress=not args.quiet)
        print(f"year-to-date panel of the table's rows through 2026 "
              f"({time.perf_counter() - started:.0f} s) -> {out / 'panel.npz'}")
    write_forecasts(calib, out, args)
    if args.truths:
        run_recovery(calib, out, args)
    if not args.no_fit:
        write_fit(calib, out, args)
    print(f"total {(time.perf_counter() - start) / 60:.1f} min")
    return 0


def cmd_nowcast(args: argparse.Namespace) -> int:
    from model.analysis.targets import percent
    from model.calibration.abc import load_table
    from model.calibration.nowcast import (
        load_figures,
        nowcast,
        posterior_draws,
        replay_origin,
    )
    from model.calibration.panel import load_panel
    from model.reporting.nowcast_report import write_nowcast
    from model.yamlio import write_json_atomic

    start = time.perf_counter()
    calib = load_calibration(args)
    folder = Path(args.posterior) if args.posterior and Path(args.posterior).is_dir() else (
        POSTERIOR_DIR / (args.posterior or calib.config.name))
    figures = load_figures(Path(args.figures), calib, replay=args.replay)
    out = Path(args.out) if args.out else results_dir() / f"nowcast_{Path(args.figures).stem}"
    check_folder(out, "nowcast")
    table = load_table(calib, folder)
    panel = load_panel(calib, folder, table.n)
    result = nowcast(calib, table, panel, figures, replay_origin(figures) if args.replay else None)
    seconds = time.perf_counter() - start
    out = claim(out, "nowcast")
    draws = posterior_draws(calib, result.final, calib.config.abc.posterior_draws)
    write_json_atomic(out / "draws.json", {"parameters": calib.names, "draws": draws})
    confirm = confirm_nowcast(calib, result, draws, args, out) if args.confirm else None
    command = " ".join(["yichun-abm nowcast", args.figures] + (["--replay"] if args.replay else [])
                       + ([f"--confirm {args.confirm}"] if args.confirm else []))
    write_nowcast(result, out, command, seconds, confirm)
    print(f"nowcast of {len(figures)} figure(s) in {seconds:.1f} s, no new simulation "
          f"-> {out / 'nowcast.md'}")
    for fig, pct in zip(result.figures, result.percentiles, strict=True):
        print(f"  {fig.id}: published {fig.value:g}, the model's percentile before it: {pct:.0f}")
    for j, before in enumerate(result.stages[0]):
        path = " -> ".join(percent(stage[j]["probability"]) for stage in result.stages)
        print(f"  {before['description_zh']} P: {path}")
    if confirm:
        agree = sum(c["agree"] for c in confirm)
        print(f"  confirmed by {args.confirm} fresh replications: {agree} of {len(confirm)} "
              "targets agree with the fast answer within their Monte-Carlo intervals")
    return 0


def confirm_nowcast(calib, result, draws: list[dict], args: argparse.Namespace,
                    out: Path) -> list[dict]:
    """The calibration scenario re-run on the nowcast's posterior: each target's probability
    beside the fast one, agreeing when their difference is inside the combined 95% error."""
    import numpy as np

    from model.analysis.targets import evaluate, load_targets
    from model.runner import load_replications, run_ensemble

    scenario, seed = calib.scenario, calib.scenario.spec.run.seed
    folder = out / "confirm"
    run_ensemble(scenario, folder, args.confirm, seed, workers=args.workers or 1, draws=draws,
                 progress=_progress(not args.quiet))
    reps = load_replications(folder, args.confirm)
    rows = {r["target"]: r for r in evaluate(load_targets(), np.stack([r.yearly for r in reps]))}
    confirm = []
    for fast in result.stages[-1]:
        slow = rows[fast["target"]]
        se_fast = (fast["high"] - fast["low"]) / (2 * 1.96)
        se_slow = (slow["probability_high"] - slow["probability_low"]) / (2 * 1.96)
        gap = abs(fast["probability"] - slow["probability"])
        confirm.append({"target": fast["target"], "fast": fast["probability"],
                        "confirmed": slow["probability"], "low": slow["probability_low"],
                        "high": slow["probability_high"],
                        "agree": bool(gap <= 1.96 * np.hypot(se_fast, se_slow) + 1e-9)})
    return confirm


def write_forecasts(calib, out: Path, args: argparse.Namespace) -> None:
    from model.calibration.abc import load_table
    from model.calibration.forecast import forecast_markdown, rolling_origin
    from model.yamlio import write_json_atomic, write_text_atomic

    if not calib.config.origins:
        return
    result = rolling_origin(calib, load_table(calib, out))
    command = f"yichun-abm calibrate {args.config}"
    write_json_atomic(out / "forecasts.json", result)
    write_text_atomic(out / "forecasts.md", forecast_markdown(result, command))
    print(f"rolling-origin forecasts: {len(result['rows'])} -> {out / 'forecasts.md'}")


def run_recovery(calib, out: Path, args: argparse.Namespace) -> None:
    from model.calibration.abc import load_table
    from model.calibration.recovery import recovery_check

    start = time.perf_counter()
    result = recovery_check(calib, load_table(calib, out), args.truths, out,
                            executor=getattr(args, "executor", "processes"),
                            scheduler=getattr(args, "scheduler", None))
    print(f"synthetic recovery over {result['truths_feasible']} truths: "
          f"{result['overall_coverage_90']:.3f} of true values inside their 90% intervals "
          f"({time.perf_counter() - start:.0f} s) -> {out / 'recovery.md'}")


def write_fit(calib, out: Path, args: argparse.Namespace) -> None:
    from model.calibration.fit import write_fit_report

    fit = write_fit_report(calib, out, replications=args.fit_replications)
    print(f"fit report: {out / 'fit.md'} ({fit} observations)")


def cmd_recovery(args: argparse.Namespace) -> int:
    calib = load_calibration(args)
    out = posterior_folder(args, calib)    # a calibration's folder: its stamp is checked
    run_recovery(calib, out, args)
    if not args.no_fit:
        write_fit(calib, out, args)
    return 0


def load_explore_inputs(args: argparse.Namespace):
    """Scenario, space (restricted to --levers), posterior draws and seed of an exploration."""
    from model.analysis.space import SPACE_FILE, Space, apply, load_space
    from model.calibration.abc import load_draws
    from model.scenario import load_scenario

    check_data_files()
    space_file = Path(args.space) if args.space else SPACE_FILE
    space = load_space(space_file)
    if getattr(args, "levers", None):
        chosen = [space.dimension(name, space_file) for name in args.levers]
        space = Space(levers=[d for d in chosen if d in space.levers],
                      uncertainties=[d for d in chosen if d in space.uncertainties])
    scenario = load_scenario(args.scenario)
    # every dimension must find its key in the scenario (a shock the space moves, say) before
    # any folder is made: set each to its range's ends once
    for end in (0, 1):
        apply(scenario, space, {d.name: d.range[end] for d in space.dimensions})
    posterior = resolve_posterior(scenario, args.posterior)
    draws = load_draws(posterior) if posterior else None
    seed = scenario.spec.run.seed if args.seed is None else args.seed
    return scenario, space, draws, seed


def check_targets(names: list[str]) -> None:
    from model.analysis.targets import TARGETS_FILE, load_targets

    known = [t.id for t in load_targets().targets]
    for name in names:
        if name not in known:
            raise InputError(TARGETS_FILE, name, f"no such target; known: {known}")


DISCOVERY_TARGETS = ("revenue_cagr_2023_2026", "lithium_revenue", "circular_revenue",
                     "building_revenue", "electronics_revenue", "equipment_revenue",
                     "biomed_core_revenue", "food_core_revenue", "textile_revenue")


def cmd_explore(args: argparse.Namespace) -> int:
    from model.analysis.discovery import box_markdown, cart_rules, discover, plot_box
    from model.analysis.explore import explore
    from model.analysis.targets import load_targets
    from model.yamlio import write_text_atomic

    scenario, space, draws, seed = load_explore_inputs(args)
    check_targets(args.targets or [])
    out = claim(Path(args.out) if args.out else results_dir() / f"explore_{scenario.name}", "explore")
    start = time.perf_counter()
    table = explore(scenario, space, args.samples, args.replications, out, seed, draws,
                    args.workers, args.executor, args.scheduler, _progress(not args.quiet))
    seconds = time.perf_counter() - start
    inputs = [d.name for d in space.dimensions]
    described = {t.id: t.description for t in load_targets().targets}
    md = [f"# Scenario discovery: {scenario.name}", "",
          f"{args.samples} Latin-hypercube points × {args.replications} replications (common "
          f"random numbers, posterior draws) = {len(table)} runs over {len(inputs)} levers and "
          f"uncertainties (scenarios/explore/space.yaml); this invocation took "
          f"{seconds / 60:.1f} min on {args.workers} worker(s), reusing saved points. PRIM "
          "boxes (EMA workbench) at density ≥ 0.8 where one exists, else at the highest of "
          "0.6, 0.4, 0.2 or twice the base rate that PRIM reaches; a CART tree is the check.", ""]
    for target in args.targets or DISCOVERY_TARGETS:
        met = table[f"met_{target}"].mean()
        outcome = "met" if met < 0.5 else "missed"  # describe the rarer outcome
        box = discover(table, inputs, target, outcome)
        md += box_markdown(box, target, described[target])
        if box is not None and box.limits:
            plot_box(table, box, inputs, out / "figures" / f"prim_{target}.png")
            md += [f"![PRIM box](figures/prim_{target}.png)", "", "CART check:", "", "```",
                   cart_rules(table, inputs, target).rstrip(), "```", ""]
    write_text_atomic(out / "discovery.md", "\n".join(md))
    print(f"exploration of {scenario.name}: {len(table)} runs in {seconds:.0f} s -> "
          f"{out / 'experiments.parquet'}, {out / 'discovery.md'}")
    return 0


def cmd_what_it_takes(args: argparse.Namespace) -> int:
    from model.analysis.explore import explore
    from model.analysis.space import Space
    from model.analysis.targets import percent
    from model.analysis.what_it_takes import (
        baseline_levers,
        cheapest,
        frontier,
        lever_search,
        package_markdown,
        plot_frontier,
    )

    check_targets(args.targets)
    scenario, space, draws, seed = load_explore_inputs(args)
    if space.uncertainties and args.levers:
        raise InputError("--levers", None, "what it takes searches over policy levers; "
                         f"{[d.name for d in space.uncertainties]} are uncertainties, not levers")
    if not space.levers:
        raise InputError("--levers", None, "no policy lever to search over")
    space = Space(levers=space.levers)
    out = claim(Path(args.out) if args.out else results_dir() / f"what_it_takes_{scenario.name}",
                "what_it_takes")
    # every design point on the same replications (seeds and posterior draws): the levers'
    # effects are then paired comparisons, which the search's regressions need
    table = explore(scenario, space, args.samples, args.replications, out / "levers_design", seed,
                    draws, args.workers, progress=_progress(not args.quiet),
                    groups=[0] * args.samples)
    packages, frontiers = [], {}
    for target in args.targets:
        search = lever_search(table, space, target, seed, baseline_levers(scenario, space))
        frontiers[target] = frontier(search)
        for bar in (0.5, 0.8):
            packages.append(cheapest(search, space, bar, scenario, seed, draws, args.confirm,
                                     args.workers))
            p = packages[-1]
            verdict = "可达 reached" if p.reached else "不可达 out of reach"
            print(f"{target} P>={percent(bar)}: {verdict}; "
                  f"{p.public_money:.1f} 亿 over 2023-2026, confirmed P = {percent(p.confirmed)} "
                  f"[{percent(p.low)}, {percent(p.high)}] ({p.replications} replications); "
                  "value reached "
                  f"{p.value:.4g} [{p.value_low:.4g}, {p.value_high:.4g}]; moved most by "
                  + ", ".join(f"{name} ({delta:+.3g})" for name, delta in p.movers))
    plot_frontier(frontiers, out / "figures" / "frontier.png")
    package_markdown(packages, scenario, space, out)
    print(f"-> {out / 'what_it_takes.md'}")
    return 0


def cmd_sobol(args: argparse.Namespace) -> int:
    from model.analysis.sobol import sobol_indices

    scenario, space, draws, seed = load_explore_inputs(args)
    out = claim(Path(args.out) if args.out else results_dir() / f"sobol_{scenario.name}", "sobol")
    start = time.perf_counter()
    indices = sobol_indices(scenario, space, args.samples, args.replications, out, seed, draws,
                            args.workers, _progress(not args.quiet))
    top = indices[indices.outcome == "revenue_2026"].sort_values("ST", ascending=False).iloc[0]
    print(f"Sobol indices of {scenario.name} in {time.perf_counter() - start:.0f} s -> "
          f"{out / 'sobol.md'}; largest total effect on 2026 revenue: {top['input']} "
          f"(ST {top['ST']:.2f} ± {top['ST_conf']:.2f})")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from model.reporting.report import notebook_report

    start = time.perf_counter()
    folders = [Path(f) for f in args.runs]
    out = check_folder(Path(args.out) if args.out else results_dir() / ("report_" + "_vs_".join(
        f.name for f in folders)), "report")
    print(f"report of {len(folders)} run(s): executing the report notebook (cell by cell)...",
          flush=True)
    html = notebook_report(folders, out, progress=not args.quiet)
    print(f"report of {len(folders)} run(s) in {time.perf_counter() - start:.1f} s -> {html}")
    return 0

def _scenario_and_draws(args: argparse.Namespace, kind: str) -> tuple:
    """The scenario, root seed, posterior draws and output folder of a command that runs a
    scenario's replications itself (levers, anchors)."""
    from model.calibration.abc import load_draws
    from model.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    seed = scenario.spec.run.seed if args.seed is None else args.seed
    posterior = resolve_posterior(scenario, args.posterior)
    draws = load_draws(posterior) if posterior else None
    folder = Path(args.out) if args.out else results_dir() / f"{kind}_{scenario.name}"
    return scenario, seed, draws, folder


def cmd_attribute(args: argparse.Namespace) -> int:
    from model.analysis.attribution import GROUPS_FILE, attribute, check_pair, load_groups
    from model.reporting.attribution_report import write_attribution
    from model.reporting.summary import write_summary
    from model.scenario import load_scenario

    scenario, seed, draws, folder = _scenario_and_draws(args, "attribution")
    against = load_scenario(args.against)
    groups = load_groups(Path(args.groups) if args.groups else GROUPS_FILE)
    check_pair(scenario, against, groups)   # refusals before anything is written
    check_folder(folder, "attribution")
    compile_once(quiet=args.quiet)
    start = time.perf_counter()
    claim(folder, "attribution")           # the coalitions are saved inside as they finish
    result = attribute(scenario, against, groups, args.replications, seed,
                       folder / "coalitions", args.workers, draws, args.permutations,
                       _progress(not args.quiet))
    seconds = time.perf_counter() - start
    command = " ".join(["yichun-abm attribute", args.scenario, f"--against {args.against}",
                        f"--replications {args.replications}"]
                       + ([f"--groups {args.groups}"] if args.groups else []))
    record = write_attribution(result, groups, folder, scenario.name, against.name,
                               scenario.digest(), command, seconds, seed)
    print(f"attribution of {scenario.name} against {against.name}: {result.runs} runs "
          f"({result.coalitions} coalitions; {result.ran_now} run now) in {seconds:.0f} s "
          f"-> {folder / 'attribution.md'}")
    print(f"  2026 revenue {record['revenue_2026']:+.1f} 亿 [{record['low']:+.1f}, "
          f"{record['high']:+.1f}]; most from {record['top_group']}")
    run_folder = folder.parent / scenario.name
    if (run_folder / "manifest.json").is_file():
        write_summary(run_folder)          # its summary gains the attribution line
    return 0


def cmd_levers(args: argparse.Namespace) -> int:
    from model.analysis.levers import lever_effects, write_lever_table

    scenario, seed, draws, folder = _scenario_and_draws(args, "levers")
    check_folder(folder, "levers")
    start = time.perf_counter()
    rows = lever_effects(scenario, args.replications, seed, args.workers, draws,
                         _progress(not args.quiet))
    command = " ".join(["yichun-abm levers", args.scenario, f"--replications {args.replications}",
                        f"--seed {seed}"] + ([f"--posterior {args.posterior}"] if args.posterior else []))
    write_lever_table(rows, claim(folder, "levers"), args.replications, seed, command)
    print(f"{len(rows)} levers x {args.replications} paired replications in "
          f"{time.perf_counter() - start:.0f} s -> {folder / 'levers.md'}")
    for r in rows:
        flag = "inert" if r["inert"] else ("ok" if r["own_as_expected"] else "UNEXPECTED")
        print(f"  {r['lever']:20s} Δrevenue {r['d_revenue_2026']:+8.2f} ± {r['se_revenue_2026']:.2f}  "
              f"Δown {r['d_own']:+.4g} ± {r['se_own']:.2g}  {flag}")
    return 0


def cmd_anchors(args: argparse.Namespace) -> int:
    from model.analysis.anchor_plants import anchor_rows, anchors_csv, anchors_markdown
    from model.yamlio import write_text_atomic

    scenario, seed, draws, folder = _scenario_and_draws(args, "anchors")
    start = time.perf_counter()
    check_folder(folder, "anchors")
    rows = anchor_rows(scenario, seed, args.replications, draws, _progress(not args.quiet))
    claim(folder, "anchors")
    write_text_atomic(folder / "anchors.csv", anchors_csv(rows))
    table = anchors_markdown(rows, args.replications)
    write_text_atomic(folder / "anchors.md",
                      f"# 重点企业产能与产量 Anchor plants: {scenario.name}\n\n{table}")
    print(table)
    print(f"{args.replications} replications in {time.perf_counter() - start:.0f} s -> "
          f"{folder / 'anchors.md'}")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Replace this process by the Solara server (so its process id is the server's)."""
    import os

    if not 0 < args.population_scale <= 200:
        raise InputError("--population-scale", None, "expected a number in (0, 200]")
    command, environment = dashboard_command(args)
    os.environ.update(environment)
    print(f"dashboard: http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    os.execv(sys.executable, command)
    return 0  # not reached


def dashboard_command(args: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
    """The Solara server's command line and environment: offline (no version check against
    the package index, no usage telemetry), bound where --host says (127.0.0.1 by default)."""
    from model.dashboard import logic

    app = Path(logic.__file__).with_name("app.py")
    command = [sys.executable, "-m", "solara", "run", str(app), "--host", args.host,
               "--port", str(args.port), "--production", "--no-open", "--no-check-version"]
    return command, {logic.ENV_REPLICATIONS: str(args.replications),
                     logic.ENV_SCALE: str(args.population_scale),
                     "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}


def cmd_schema(args: argparse.Namespace) -> int:
    from model.scenario import scenario_json_schema
    from model.yamlio import write_text_atomic

    text = json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.out:
        write_text_atomic(args.out, text)
        print(f"scenario JSON Schema -> {args.out}")
    else:
        print(text, end="")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.full:
        sys.path.insert(0, str(PROJECT_ROOT))  # benchmarks/ sits beside the package
        from benchmarks.suite import main as suite

        suite(ensemble=args.ensemble)
        return 0
    from model.bench import bench_engine

    bench_engine(args.scenario, repeats=args.repeats, scale=args.scale)
    return 0


class Parser(argparse.ArgumentParser):
    """Bad arguments are one line (not argparse's usage block), exit 2."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def bounded(kind: type, lo: float, hi: float, what: str):
    """An argparse type: a `kind` number in [lo, hi]."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not lo <= value <= hi or value != value:
            raise argparse.ArgumentTypeError(f"expected {what} in [{lo:g}, {hi:g}], got {text}")
        return value
    return parse


SEED = bounded(int, 0, 2**32 - 1, "a non-negative whole number")
REPLICATIONS = bounded(int, 1, 100_000, "a number of replications")
WORKERS = bounded(int, 1, 256, "a number of worker processes")
COUNT = bounded(int, 1, 1_000_000, "a positive whole number")
TRUTHS = bounded(int, 0, 100_000, "a number of synthetic truths")
SCALE = bounded(float, 0.01, 200, "a population scale")
PORT = bounded(int, 0, 65535, "a port number")


def output_file(text: str) -> str:
    """An output file: named, and not a folder."""
    if not text.strip() or Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"expected a file name, got {text!r}")
    return text


def output_path(text: str) -> str:
    """An output folder: named, and not an existing file."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder, got an empty name")
    if Path(text).exists() and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="yichun-abm", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a scenario (one or more replications) into a folder")
    run.add_argument("scenario", help="scenario YAML file, or a shipped scenario's name (baseline, ...)")
    run.add_argument("--seed", type=SEED, help="root seed (default: the scenario's run.seed)")
    run.add_argument("--replications", type=REPLICATIONS, help="number of replications")
    run.add_argument("--workers", type=WORKERS, default=1, help="worker processes (default 1)")
    run.add_argument("--out", type=output_path, help="run folder (default results/<scenario name>)")
    run.add_argument("--executor", choices=("processes", "dask"), default="processes",
                     help="where replications run: a local process pool, or Dask")
    run.add_argument("--scheduler", help="Dask scheduler address (tcp://host:port); without "
                     "it, --executor dask starts a LocalCluster of --workers processes")
    run.add_argument("--posterior", help="posterior folder or name to draw parameters from "
                     "(default: the scenario's 'calibration'; 'none' for the plain defaults)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    val = sub.add_parser("validate", help="check scenario files")
    val.add_argument("files", nargs="+")
    val.set_defaults(func=cmd_validate)

    show = sub.add_parser("show", help="print a scenario as resolved (extends merged, defaults)")
    show.add_argument("file")
    show.set_defaults(func=cmd_show)

    comp = sub.add_parser("compare", help="compare run folders: target probabilities, fan charts")
    comp.add_argument("runs", nargs="+", help="run folders (the first is the reference)")
    comp.add_argument("--out", type=output_path, help="comparison folder (default results/compare_<names>)")
    comp.set_defaults(func=cmd_compare)

    rep = sub.add_parser("report", help="execute the scenario-report notebook on run folders")
    rep.add_argument("runs", nargs="+", help="run folders (the first is the reference)")
    rep.add_argument("--out", type=output_path, help="report folder (default results/report_<names>)")
    rep.add_argument("--quiet", action="store_true", help="no progress bar")
    rep.set_defaults(func=cmd_report)

    cal = sub.add_parser("calibrate", help="estimate parameters (regression-adjusted ABC over a "
                         "reference table) and write a posterior, forecasts and fit report")
    cal.add_argument("config", help="calibration config YAML (e.g. calibration/default.yaml)")
    cal.add_argument("--out", type=output_path,
                     help="posterior folder (default calibration/posterior/<name>)")
    cal.add_argument("--workers", type=WORKERS, help="worker processes (default: the config's)")
    cal.add_argument("--executor", choices=("processes", "dask"), default="processes")
    cal.add_argument("--scheduler", help="Dask scheduler address (default: a LocalCluster)")
    cal.add_argument("--exclude", nargs="*", help="observation ids to hold out")
    cal.add_argument("--include", nargs="*", help="observation ids to use although off by default")
    cal.add_argument("--fit-replications", type=COUNT, default=100,
                     help="posterior-predictive replications for the fit report")
    cal.add_argument("--no-fit", action="store_true", help="skip the fit report")
    cal.add_argument("--panel", action="store_true",
                     help="also keep every row's year-to-date panel and 2026 outcomes (re-runs "
                     "the rows through 2026) for `yichun-abm nowcast`")
    cal.add_argument("--truths", type=TRUTHS, default=0,
                     help="also run the synthetic recovery over this many prior truths")
    cal.add_argument("--quiet", action="store_true")
    cal.set_defaults(func=cmd_calibrate)

    rec = sub.add_parser("recovery", help="synthetic recovery and simulation-based calibration "
                         "of a calibration, from its reference table")
    rec.add_argument("config")
    rec.add_argument("--out", type=output_path,
                     help="posterior folder (default calibration/posterior/<name>)")
    rec.add_argument("--truths", type=TRUTHS, default=100)
    rec.add_argument("--workers", type=WORKERS)
    rec.add_argument("--executor", choices=("processes", "dask"), default="processes")
    rec.add_argument("--scheduler", help="Dask scheduler address (default: a LocalCluster)")
    rec.add_argument("--fit-replications", type=COUNT, default=100)
    rec.add_argument("--no-fit", action="store_true", help="do not refresh fit.md")
    rec.add_argument("--quiet", action="store_true")
    rec.set_defaults(func=cmd_recovery)

    def exploration_args(p: argparse.ArgumentParser, samples: int, replications: int) -> None:
        p.add_argument("--scenario", default=str(BASELINE))
        p.add_argument("--space", help="levers and uncertainties (default scenarios/explore/space.yaml)")
        p.add_argument("--samples", type=COUNT, default=samples, help="design points")
        p.add_argument("--replications", type=REPLICATIONS, default=replications,
                       help="replications per design point (common random numbers)")
        p.add_argument("--seed", type=SEED, help="root seed (default: the scenario's run.seed)")
        p.add_argument("--posterior", help="posterior folder or name ('none' for the defaults)")
        p.add_argument("--workers", type=WORKERS, default=1)
        p.add_argument("--out", type=output_path, help="output folder")
        p.add_argument("--quiet", action="store_true")

    exp = sub.add_parser("explore", help="Latin-hypercube experiments over levers and "
                         "uncertainties, and PRIM scenario discovery for the targets")
    exploration_args(exp, 500, 4)
    exp.add_argument("--targets", nargs="*", help="targets to discover boxes for")
    exp.add_argument("--levers", nargs="*", help="explore only these levers and uncertainties")
    exp.add_argument("--executor", choices=("processes", "dask"), default="processes")
    exp.add_argument("--scheduler", help="Dask scheduler address (default: a LocalCluster)")
    exp.set_defaults(func=cmd_explore)

    sob = sub.add_parser("sobol", help="Sobol indices (SALib) of P(9%%) and 2026 revenue to "
                         "the levers and uncertainties, with confidence intervals")
    exploration_args(sob, 64, 2)
    sob.add_argument("--levers", nargs="*", help="only these levers and uncertainties")
    sob.set_defaults(func=cmd_sobol)

    wit = sub.add_parser("what-it-takes", help="the cheapest lever package reaching each target "
                         "with P >= 0.5 and P >= 0.8, confirmed by a fresh ensemble")
    wit.add_argument("targets", nargs="+", help="target ids (scenarios/targets/plan_2026.yaml)")
    exploration_args(wit, 200, 4)
    wit.add_argument("--levers", nargs="*", help="levers that may move (default: all)")
    wit.add_argument("--confirm", type=COUNT, default=200, help="replications of each confirmation")
    wit.set_defaults(func=cmd_what_it_takes)

    lev = sub.add_parser("levers", help="lever-effects table: each lever alone against the "
                         "scenario, paired on common random numbers")
    lev.add_argument("scenario", nargs="?", default=str(BASELINE))
    lev.add_argument("--replications", type=REPLICATIONS, default=40)
    lev.add_argument("--seed", type=SEED, help="root seed (default: the scenario's run.seed)")
    lev.add_argument("--workers", type=WORKERS, default=1)
    lev.add_argument("--posterior", help="posterior folder or name ('none' for the defaults)")
    lev.add_argument("--out", type=output_path,
                     help="folder for levers.csv and levers.md (default results/levers_<name>)")
    lev.add_argument("--quiet", action="store_true")
    lev.set_defaults(func=cmd_levers)
    att = sub.add_parser("attribute", help="split the difference between a scenario and its "
                         "counterfactual among the plan's policy groups (Shapley values)")
    att.add_argument("scenario", nargs="?", default=str(BASELINE))
    att.add_argument("--against", default="no_new_policy",
                     help="the counterfactual scenario (default no_new_policy)")
    att.add_argument("--groups", help="policy groups YAML (default scenarios/attribution/groups.yaml)")
    att.add_argument("--replications", type=REPLICATIONS, default=40)
    att.add_argument("--permutations", type=COUNT, default=64,
                     help="orders sampled when there are more than 8 groups")
    att.add_argument("--seed", type=SEED, help="root seed (default: the scenario's run.seed)")
    att.add_argument("--posterior", help="posterior folder or name ('none' for the defaults)")
    att.add_argument("--workers", type=WORKERS, default=1)
    att.add_argument("--out", type=output_path,
                     help="folder (default results/attribution_<scenario>)")
    att.add_argument("--quiet", action="store_true", help="no progress bar")
    att.set_defaults(func=cmd_attribute)

    now = sub.add_parser("nowcast", help="update the posterior and the target probabilities "
                         "with newly published figures, from the reference table (no new runs)")
    now.add_argument("figures", help="YAML of new figures (observations' format with a value; "
                     "see calibration/figures/)")
    now.add_argument("--config", default=str(DEFAULT_CALIBRATION),
                     help="calibration config (default calibration/default.yaml)")
    now.add_argument("--posterior", help="posterior folder or name (default: the config's)")
    now.add_argument("--out", type=output_path,
                     help="folder for nowcast.md (default results/nowcast_<figures file>)")
    now.add_argument("--replay", action="store_true", help="start before the first figure "
                     "(the calibration's data published by then) and add them in date order")
    now.add_argument("--confirm", type=COUNT, default=0,
                     help="re-run the calibration scenario on the new posterior with N "
                     "replications to check the fast answer")
    now.add_argument("--workers", type=WORKERS, help="worker processes for --confirm")
    now.add_argument("--quiet", action="store_true", help="no progress bar")
    now.set_defaults(func=cmd_nowcast)

    anc = sub.add_parser("anchors", help="the anchor plants' capacity and output in GWh and "
                         "tonnes a year, beside their published sizes")
    anc.add_argument("scenario", nargs="?", default=str(BASELINE))
    anc.add_argument("--replications", type=REPLICATIONS, default=10)
    anc.add_argument("--seed", type=SEED, help="root seed (default: the scenario's run.seed)")
    anc.add_argument("--posterior", help="posterior folder or name ('none' for the defaults)")
    anc.add_argument("--out", type=output_path,
                     help="folder for anchors.csv and anchors.md (default results/anchors_<name>)")
    anc.add_argument("--quiet", action="store_true", help="no progress bar")
    anc.set_defaults(func=cmd_anchors)

    bench = sub.add_parser("bench", help="time full 2022-2026 runs of the engine")
    bench.add_argument("--scenario", default=str(BASELINE))
    bench.add_argument("--repeats", type=COUNT, default=7)
    bench.add_argument("--scale", type=SCALE, default=1.0, help="population scale factor")
    bench.add_argument("--full", action="store_true", help="the whole performance suite: "
                       "reference comparison, scaling to 10^6 firms, ensemble throughput")
    bench.add_argument("--ensemble", type=COUNT, default=200,
                       help="replications in the suite's ensemble (default 200; 1000 for the full "
                            "measure)")
    bench.set_defaults(func=cmd_bench)
    schema = sub.add_parser("schema", help="print (or write) the scenario format as JSON Schema")
    schema.add_argument("--out", type=output_file, help="file to write (default: print)")
    schema.set_defaults(func=cmd_schema)
    dash = sub.add_parser("dashboard", help="start the interactive dashboard (Solara) on localhost")
    dash.add_argument("--port", type=PORT, default=8765, help="port (0: a free one)")
    dash.add_argument("--host", default="127.0.0.1")
    dash.add_argument("--replications", type=REPLICATIONS, default=12,
                      help="replications a live run starts with")
    dash.add_argument("--population-scale", type=SCALE, default=1.0, dest="population_scale")
    dash.set_defaults(func=cmd_dashboard)
    return parser


class Stopped(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: workers ended, one line, finished work kept."""


def _stop(signum: int, frame: object) -> None:
    raise Stopped


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if threading.current_thread() is not threading.main_thread():
        return _dispatch(args)
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        return _dispatch(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _dispatch(args: argparse.Namespace) -> int:
    """Run the command; bad input, unreachable files and interruptions become one line."""
    try:
        if getattr(args, "scheduler", None):     # reached before anything is written
            from model.distributed import check_scheduler, parse_scheduler

            args.scheduler = parse_scheduler(args.scheduler)
            check_scheduler(args.scheduler)
        return args.func(args)
    except InputError as exc:
        for line in exc.one_line().splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    except OSError as exc:  # a place that cannot be read or written, a full disk, a refused connection
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print("stopped; finished work is kept: rerun the same command to resume",
              file=sys.stderr)
        return 143 if isinstance(exc, Stopped) else 130
    except Exception:
        # not a bad input but a bug: keep the traceback visible, and say where it belongs
        print("yichun-abm: unexpected error (a bug, not your input): please report it with the "
              "traceback below and the command you ran", file=sys.stderr)
        raise


if __name__ == "__main__":
    sys.exit(main())
