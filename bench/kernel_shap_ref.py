"""The kernel-shap bench's reference side: shap's KernelExplainer on layerhive's networks, in float64 numpy.

Run by bench/kernel-shap.mjs with .venv-shap's python (tools/ensure-shap.mjs); reads one JSON request on stdin,
writes one JSON answer on stdout. Request: {"budgets": [...], "seeds": [...], "nets": [{"name", "layers": [{"type":
"dense", "in", "out", "weight": [in*out, row-major [in, out]], "bias": [out]} | {"type": "tanh" | "relu"}], "x",
"base", "featureMask": [one feature index per input], "target"}]}.

The explained function is over the M features' on/off vector z: input element i is x[i] where z[featureMask[i]] is 1,
base[i] where it is 0 (layerhive's featureMask with one baseline). shap is handed the instance ones(M) and the one
background row zeros(M), so the rows it builds are exactly those z (every feature varies). Its model calls: f(x) and
f(background) plus `nsamples` coalitions, as layerhive's budget counts them (2 + samples).
"""

import json
import sys
import warnings

import numpy as np
import shap


def forward(layers, inputs):
    h = inputs
    for layer in layers:
        if layer["type"] == "dense":
            w = np.asarray(layer["weight"], dtype=np.float64).reshape(layer["in"], layer["out"])
            h = h @ w + np.asarray(layer["bias"], dtype=np.float64)
        elif layer["type"] == "tanh":
            h = np.tanh(h)
        elif layer["type"] == "relu":
            h = np.maximum(h, 0.0)
        else:
            raise ValueError(f"unknown layer {layer['type']}")
    return h


def value_function(net, counter):
    x = np.asarray(net["x"], dtype=np.float64)
    base = np.asarray(net["base"], dtype=np.float64)
    groups = np.asarray(net["featureMask"], dtype=np.int64)
    target = net["target"]

    def f(z):
        z = np.asarray(z, dtype=np.float64).reshape(-1, groups.max() + 1)
        counter[0] += z.shape[0]
        on = z[:, groups] > 0.5
        return forward(net["layers"], np.where(on, x, base))[:, target]

    return f


def exact_shapley(f, m):
    """Shapley values by enumerating all 2^m coalitions (bit j of the index: feature j present)."""
    n = 1 << m
    idx = np.arange(n)
    z = ((idx[:, None] >> np.arange(m)) & 1).astype(np.float64)
    v = f(z)
    size = z.sum(1).astype(np.int64)
    fact = [1.0]
    for k in range(1, m + 1):
        fact.append(fact[-1] * k)
    w = np.array([fact[s] * fact[m - s - 1] / fact[m] if s < m else 0.0 for s in range(m + 1)])
    phi = np.zeros(m)
    for j in range(m):
        without = idx[(idx >> j) & 1 == 0]
        phi[j] = np.sum(w[size[without]] * (v[without | (1 << j)] - v[without]))
    return phi


def main():
    req = json.load(sys.stdin)
    out = {"shap_version": shap.__version__, "numpy_version": np.__version__, "nets": []}
    for net in req["nets"]:
        m = int(max(net["featureMask"])) + 1
        counter = [0]
        f = value_function(net, counter)
        exact = exact_shapley(f, m)
        runs = {}
        for budget in req["budgets"]:
            phis, calls = [], []
            for seed in req["seeds"]:
                np.random.seed(seed)
                counter[0] = 0
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    explainer = shap.KernelExplainer(f, np.zeros((1, m)))
                    phi = explainer.shap_values(np.ones((1, m)), nsamples=budget, l1_reg=False, silent=True)
                phis.append(np.asarray(phi, dtype=np.float64).reshape(-1).tolist())
                calls.append(counter[0])
            runs[str(budget)] = {"phi": phis, "model_calls": calls}
        out["nets"].append({"name": net["name"], "exact": exact.tolist(), "runs": runs})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
