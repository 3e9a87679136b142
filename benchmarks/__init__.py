"""Speed and memory measurements; `make bench` runs every script here (never part of `make test`)."""
