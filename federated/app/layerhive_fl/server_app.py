"""ServerApp: Flower's own strategies, configured; nothing aggregated here by hand."""

import json
import time
from pathlib import Path

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Context, MetricRecord
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import (
    DifferentialPrivacyServerSideFixedClipping,
    FedAdam,
    FedAvg,
    FedProx,
)

app = ServerApp()


def load_arrays(folder: Path) -> ArrayRecord:
    """Initial arrays written by layerhive: manifest.json (names in order) and <i>.npy."""
    names = json.loads((folder / "manifest.json").read_text())["names"]
    return ArrayRecord({name: Array(np.load(folder / f"{i}.npy", allow_pickle=False)) for i, name in enumerate(names)})


def save_arrays(arrays: ArrayRecord, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    names = list(arrays.keys())
    for i, name in enumerate(names):
        np.save(folder / f"{i}.npy", arrays[name].numpy(), allow_pickle=False)
    (folder / "manifest.json").write_text(json.dumps({"names": names}))


def make_strategy(cfg):
    common = dict(
        fraction_train=float(cfg["fraction-train"]),
        fraction_evaluate=float(cfg["fraction-evaluate"]),
        min_train_nodes=int(cfg["min-nodes"]),
        min_evaluate_nodes=int(cfg["min-nodes"]),
        min_available_nodes=int(cfg["min-nodes"]),
    )
    name = str(cfg["strategy"])
    if name == "fedavg":
        strategy = FedAvg(**common)
    elif name == "fedprox":
        strategy = FedProx(**common, proximal_mu=float(cfg["proximal-mu"]))
    elif name == "fedadam":
        strategy = FedAdam(**common, eta=float(cfg["eta"]), eta_l=float(cfg["eta-l"]))
    else:
        raise ValueError(f"strategy must be fedavg, fedprox or fedadam, not {name!r}")
    if float(cfg["dp-noise"]) > 0:
        strategy = DifferentialPrivacyServerSideFixedClipping(
            strategy,
            noise_multiplier=float(cfg["dp-noise"]),
            clipping_norm=float(cfg["dp-clip"]),
            num_sampled_clients=int(cfg["min-nodes"]),
        )
    return strategy


@app.main()
def main(grid: Grid, context: Context) -> None:
    cfg = context.run_config
    out = Path(str(cfg["out-dir"])) if cfg["out-dir"] else None
    rounds: list[dict] = []
    started = time.time()

    def on_round(server_round: int, arrays: ArrayRecord) -> MetricRecord | None:
        # called by the strategy after each aggregation (round 0: the initial arrays); only timing and a copy
        rounds.append({"round": server_round, "t": time.time() - started})
        if out is not None:
            save_arrays(arrays, out / f"round-{server_round}")
        return None

    result = make_strategy(cfg).start(
        grid=grid,
        initial_arrays=load_arrays(Path(str(cfg["init-dir"]))),
        num_rounds=int(cfg["num-server-rounds"]),
        timeout=float(cfg["timeout"]),
        train_config=ConfigRecord(
            {"local-epochs": int(cfg["local-epochs"]), "lr": float(cfg["lr"]), "batch-size": int(cfg["batch-size"])}
        ),
        evaluate_fn=on_round,
    )
    if out is not None:
        save_arrays(result.arrays, out / "final")
        summary = {
            "strategy": str(cfg["strategy"]),
            "dp": float(cfg["dp-noise"]) > 0,
            "rounds": rounds,
            "train": {r: dict(m) for r, m in result.train_metrics_clientapp.items()},
            "evaluate": {r: dict(m) for r, m in result.evaluate_metrics_clientapp.items()},
        }
        (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
