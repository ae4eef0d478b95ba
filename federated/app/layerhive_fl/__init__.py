"""layerhive's Flower app."""
