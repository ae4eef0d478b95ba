"""Placeholder ClientApp: Flower requires one per app; layerhive's clients are TypeScript SuperNodes."""

from flwr.clientapp import ClientApp

app = ClientApp()


@app.train()
def train(msg, context):  # pragma: no cover - never run in a layerhive federation
    raise RuntimeError("layerhive clients train in TypeScript (layerhive federate); this ClientApp is not used")
