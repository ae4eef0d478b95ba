#!/usr/bin/env python3
"""ONNX fixtures exported by real PyTorch, for layerhive's ONNX importer tests.

Writes test/fixtures/onnx/<family>.<exporter>.onnx and a .json beside each one holding a seeded
input batch of 2, the PyTorch output on exactly that input, the output shape, the torch version,
the opset and the op types in the graph. Families: resnet, mobilenetv2, vgg, mlp_ln. Exporters:
torchscript13 / torchscript17 (torch.onnx.export(dynamo=False, opset_version=13 / 17)),
torchscript13-nofold (the same with do_constant_folding=False, which keeps BatchNormalization) and
dynamo (torch.onnx.export(dynamo=True), its default opset). An export that fails (or fails
onnx.checker full_check) writes no file; the script prints it and lists it at the end, exit 1.

Run through tools/onnx-fixtures/make.sh (it makes the pinned .venv-fixtures/ first).
"""

import json
import math
import os
import sys
import traceback
import warnings

import onnx
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fixtures", "onnx")
SEED = 20240611
MAX_BYTES = 300_000


# ---------------------------------------------------------------- models


def conv_bn(cin, cout, k, stride=1, groups=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    )


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """Input [N,3,16,16] -> [N,10]."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True))
        self.layer1 = BasicBlock(8, 8, 1)
        self.layer2 = BasicBlock(8, 16, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        x = torch.flatten(self.pool(x), 1)
        return self.fc(x)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand, act=nn.ReLU6):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.block = nn.Sequential(
            nn.Conv2d(cin, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            act(inplace=True),
            nn.Conv2d(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            act(inplace=True),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        )

    def forward(self, x):
        y = self.block(x)
        return x + y if self.use_res else y


class MobileNetV2(nn.Module):
    """Input [N,3,16,16] -> [N,10]. ReLU6 throughout, one Hardswish block (MobileNetV3 style)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU6(inplace=True))
        self.block1 = InvertedResidual(8, 8, 1, 4)  # residual add
        self.block2 = InvertedResidual(8, 16, 2, 4)  # stride 2, no residual
        self.block3 = InvertedResidual(16, 16, 1, 2, act=nn.Hardswish)  # residual, Hardswish
        self.head = nn.Sequential(nn.Conv2d(16, 32, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6(inplace=True))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.head(self.block3(self.block2(self.block1(self.stem(x)))))
        x = torch.flatten(self.pool(x), 1)
        return self.fc(self.dropout(x))


class VGG(nn.Module):
    """Input [N,1,28,28] -> [N,10]. x.view(x.size(0), -1) makes the Shape/Gather/Unsqueeze/Concat/Reshape subgraph."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(4, 4, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(8 * 7 * 7, 32),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(32, 10),
        )

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


class MlpLn(nn.Module):
    """Input [N,20] -> [N,5]. Exact (erf) GELU, pre-LN residual block."""

    def __init__(self):
        super().__init__()
        self.fc_in = nn.Linear(20, 32)
        self.ln_in = nn.LayerNorm(32)
        self.act = nn.GELU()  # approximate='none': erf
        self.ln_block = nn.LayerNorm(32)
        self.fc_block = nn.Linear(32, 32)
        self.ln_out = nn.LayerNorm(32)
        self.fc_out = nn.Linear(32, 5)

    def forward(self, x):
        x = self.act(self.ln_in(self.fc_in(x)))
        x = x + self.fc_block(self.act(self.ln_block(x)))
        return self.fc_out(self.ln_out(x))


FAMILIES = {
    # name: (constructor, input shape without batch)
    "resnet": (ResNet, [3, 16, 16]),
    "mobilenetv2": (MobileNetV2, [3, 16, 16]),
    "vgg": (VGG, [1, 28, 28]),
    "mlp_ln": (MlpLn, [20]),
}

# (family, exporter label, exporter). Both exporters fold eval-mode BatchNorm into the preceding Conv by default,
# so the *-nofold files (TorchScript, do_constant_folding=False) are the ones that keep BatchNormalization nodes.
JOBS = [
    ("resnet", "torchscript13", {"dynamo": False, "opset": 13}),
    ("resnet", "torchscript13-nofold", {"dynamo": False, "opset": 13, "fold": False}),
    ("resnet", "dynamo", {"dynamo": True}),
    ("mobilenetv2", "torchscript13", {"dynamo": False, "opset": 13}),
    ("mobilenetv2", "torchscript13-nofold", {"dynamo": False, "opset": 13, "fold": False}),
    ("mobilenetv2", "dynamo", {"dynamo": True}),
    ("vgg", "torchscript13", {"dynamo": False, "opset": 13}),
    ("vgg", "dynamo", {"dynamo": True}),
    ("mlp_ln", "torchscript17", {"dynamo": False, "opset": 17}),
    ("mlp_ln", "torchscript13", {"dynamo": False, "opset": 13}),
    ("mlp_ln", "dynamo", {"dynamo": True}),
]


def init_params(model):
    """He-normal Conv/Linear weights (PyTorch's default init shrinks the signal layer by layer, which would leave the
    outputs nearly independent of the input), small random biases, non-trivial BatchNorm running statistics and
    affine parameters, and non-trivial LayerNorm affine parameters."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                if m.bias is not None:
                    m.bias.uniform_(-0.1, 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
            elif isinstance(m, nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)


# ---------------------------------------------------------------- helpers


def sig(v, digits):
    return float(f"{v:.{digits}g}")


def op_types(model):
    """Sorted unique op types of the main graph, its subgraphs and its local functions ('domain::Op' off the default domain)."""
    found = set()

    def walk(graph):
        for node in graph.node:
            found.add(node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}::{node.op_type}")
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    walk(attr.g)
                for g in attr.graphs:
                    walk(g)

    walk(model.graph)
    for fn in model.functions:
        for node in fn.node:
            found.add(node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}::{node.op_type}")
    return sorted(found)


def default_opset(model):
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


def export(model, x, path, how):
    if how["dynamo"]:
        torch.onnx.export(
            model,
            (x,),
            path,
            dynamo=True,
            external_data=False,
            input_names=["input"],
            output_names=["output"],
            dynamic_shapes={"x": {0: torch.export.Dim("N")}},
        )
    else:
        torch.onnx.export(
            model,
            (x,),
            path,
            dynamo=False,
            opset_version=how["opset"],
            do_constant_folding=how.get("fold", True),
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
        )


def make(family, exporter, how, failures):
    ctor, shape = FAMILIES[family]
    torch.manual_seed(SEED)
    model = ctor()
    init_params(model)
    model.eval()

    gen = torch.Generator().manual_seed(SEED + 1)
    raw = torch.randn([2, *shape], generator=gen)
    data = [sig(v, 6) for v in raw.flatten().tolist()]
    x = torch.tensor(data, dtype=torch.float32).reshape(2, *shape)
    with torch.no_grad():
        y = model(x)

    name = f"{family}.{exporter}"
    path = os.path.join(OUT, f"{name}.onnx")
    for stale in (path, path + ".data", os.path.join(OUT, f"{name}.json")):
        if os.path.exists(stale):
            os.remove(stale)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            export(model, x, path, how)
        proto = onnx.load(path, load_external_data=False)
        external = [t.name for t in proto.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
        if external or os.path.exists(path + ".data"):
            raise RuntimeError(f"weights stored as external data: {external[:3]}")
        onnx.checker.check_model(proto, full_check=True)
        size = os.path.getsize(path)
        if size >= MAX_BYTES:
            raise RuntimeError(f"{size} bytes, over {MAX_BYTES}")
    except Exception as e:  # noqa: BLE001 — any exporter failure is recorded, not fatal
        for stale in (path, path + ".data"):
            if os.path.exists(stale):
                os.remove(stale)
        msg = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
        failures.append({"file": name, "error": msg})
        print(f"FAIL {name}: {msg}", file=sys.stderr)
        if os.environ.get("FIXTURES_TRACEBACK"):
            traceback.print_exc()
        return

    ops = op_types(proto)
    meta = {
        "input": {"shape": list(x.shape), "data": data},
        "torch": [sig(v, 9) for v in y.flatten().tolist()],  # 9 significant digits: float32 round-trips
        "outputShape": list(y.shape),
        "torchVersion": torch.__version__,
        "opset": default_opset(proto),
        "ops": ops,
    }
    assert all(math.isfinite(v) for v in meta["torch"])
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(meta, f, separators=(",", ":"))
        f.write("\n")
    print(f"ok   {name}: {size} bytes, opset {meta['opset']}, ops {' '.join(ops)}")


def main():
    os.makedirs(OUT, exist_ok=True)
    print(f"torch {torch.__version__}, onnx {onnx.__version__}")
    failures = []
    only = set(sys.argv[1:])  # optional: family names to (re)make
    for family, exporter, how in JOBS:
        if not only or family in only:
            make(family, exporter, how, failures)
    if failures:
        print(f"{len(failures)} export(s) failed (see tools/onnx-fixtures/README.md):", file=sys.stderr)
        for f in failures:
            print(f"  {f['file']}: {f['error']}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
