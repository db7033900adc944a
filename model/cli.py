"""Command line: ``yichun-abm run | validate | show | bench``.

Bad input (a missing or malformed scenario, an unknown key, a value out of range) prints one
line naming the file and key and exits with code 2, before anything is written.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import yaml

from model.errors import InputError
from model.paths import PROJECT_ROOT, RESULTS_DIR


def _progress(enabled: bool):
    def wrap(iterable, total):
        if not enabled or total <= 1:
            return iterable
        from tqdm import tqdm

        return tqdm(iterable, total=total, unit="run", desc="replications", file=sys.stderr)

    return wrap


def check_resume(folder: Path, scenario_hash: str, seed: int) -> None:
    """A folder may only be resumed by the same scenario and seed."""
    stamp = folder / "ensemble.json"
    if not stamp.exists():
        return
    try:
        old = json.loads(stamp.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(stamp, None, f"unreadable ensemble stamp: {exc}") from None
    if old.get("scenario_hash") != scenario_hash or old.get("seed") != seed:
        raise InputError(folder, None,
                         "folder holds replications of another scenario or seed "
                         f"(hash {old.get('scenario_hash')}, seed {old.get('seed')}); "
                         "choose another --out or delete it")


def cmd_run(args: argparse.Namespace) -> int:
    from model.figures import write_figures
    from model.output import manifest, write_manifest, write_tables
    from model.report import write_target_tables
    from model.runner import load_replications, run_ensemble
    from model.scenario import load_scenario
    from model.yamlio import write_json_atomic

    scenario = load_scenario(args.scenario)
    seed = scenario.spec.run.seed if args.seed is None else args.seed
    replications = args.replications or scenario.spec.run.replications
    folder = Path(args.out) if args.out else RESULTS_DIR / scenario.name
    check_resume(folder, scenario.digest(), seed)
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / "ensemble.json", {"scenario_hash": scenario.digest(), "seed": seed})
    start = time.perf_counter()
    ran = run_ensemble(scenario, folder / "replications", replications, seed,
                       workers=args.workers, progress=_progress(not args.quiet))
    reps = load_replications(folder / "replications", replications)
    write_tables(folder, reps)
    figures = write_figures(folder, reps)
    rows = write_target_tables(folder, scenario, reps, figures)
    wall = time.perf_counter() - start
    write_manifest(folder, manifest(scenario, seed, reps, args.workers, wall,
                                    {"figures": figures, "replications_run_now": len(ran)}))
    print(f"{scenario.name}: {replications} replication(s) ({len(ran)} run now) in {wall:.1f} s "
          f"-> {folder}")
    headline = {r["target"]: r for r in rows}
    for key in ("revenue_cagr_2023_2026", "revenue_2026_on_9pct_path", "lithium_revenue",
                "above_scale_firms"):
        r = headline[key]
        print(f"  P({r['description']}) = {r['probability']:.2f} "
              f"[{r['probability_low']:.2f}, {r['probability_high']:.2f}]; "
              f"median 2026 {r['median_2026']:.4g} vs target {r['target_value']:g}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from model.scenario import load_scenario

    for path in args.files:
        scenario = load_scenario(path)
        print(f"{path}: ok (scenario '{scenario.name}', hash {scenario.digest()})")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from model.scenario import load_scenario

    scenario = load_scenario(args.file)
    resolved = {
        "scenario": scenario.spec.model_dump(mode="json", exclude={"parameters"}),
        "parameters": scenario.parameters.as_dict(),
        "files": [str(p) for p in scenario.files],
    }
    print(yaml.safe_dump(resolved, allow_unicode=True, sort_keys=False), end="")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from model.compare import compare

    folders = [Path(f) for f in args.runs]
    out = Path(args.out) if args.out else RESULTS_DIR / ("compare_" + "_vs_".join(
        f.name for f in folders))
    compare(folders, out)
    print(f"comparison of {len(folders)} runs -> {out}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from model.bench import bench_engine

    bench_engine(args.scenario, repeats=args.repeats, scale=args.scale)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yichun-abm", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a scenario (one or more replications) into a folder")
    run.add_argument("scenario", help="scenario YAML file")
    run.add_argument("--seed", type=int, help="root seed (default: the scenario's run.seed)")
    run.add_argument("--replications", type=int, help="number of replications")
    run.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    run.add_argument("--out", help="run folder (default results/<scenario name>)")
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
    comp.add_argument("--out", help="comparison folder (default results/compare_<names>)")
    comp.set_defaults(func=cmd_compare)

    bench = sub.add_parser("bench", help="time full 2022-2026 runs of the engine")
    bench.add_argument("--scenario", default=str(PROJECT_ROOT / "scenarios" / "baseline.yaml"))
    bench.add_argument("--repeats", type=int, default=7)
    bench.add_argument("--scale", type=float, default=1.0, help="population scale factor")
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "replications", None) is not None and args.replications < 1:
        parser.error("--replications must be at least 1")
    try:
        return args.func(args)
    except InputError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
