#!/usr/bin/env python3
"""Checks an eager and a graphed run of the engine (tests/gpu/engine_graphs.sh):

    check_graphs.py EAGER_DIR GRAPHS_DIR

each DIR holding tokens-0.tsv (the engine's) and dump.jsonl (`partrace dump --json` of its trace). Holds:
the output tokens equal request by request; in the graphed run, kernels replayed from graphs,
each tied to a graph node recorded at capture (its node or the node it was cloned from); the
eager run has none. Prints one line of figures; exit 1 when
a check fails."""
import json
import sys


def tokens(d):
    with open(f"{d}/tokens-0.tsv") as f:
        rows = [line.split("\t") for line in f.read().splitlines()[1:]]
    return {r[0]: (r[1], r[2]) for r in rows}


def records(d):
    with open(f"{d}/dump.jsonl") as f:
        for line in f:
            if line.startswith("{"):
                yield json.loads(line)


def main():
    eager, graphs = sys.argv[1], sys.argv[2]
    failed = []
    te, tg = tokens(eager), tokens(graphs)
    same = sum(1 for k in te if tg.get(k) == te[k])
    if not te or same != len(te) or len(tg) != len(te):
        failed.append(f"tokens equal in {same} of {len(te)} requests")
    recs = list(records(graphs))
    # Node ids are a process's own: keyed by pid (a run of several ranks dumps several files).
    nodes = {(r["pid"], r["node_id"]) for r in recs if r.get("kind") == "graph_node"}
    nodes |= {(r["pid"], r["cloned_from"]) for r in recs if r.get("kind") == "graph_node" and r.get("cloned_from")}
    kernels = [r for r in recs if r.get("kind") == "kernel"]
    replayed = [k for k in kernels if k.get("graph_node_id")]
    tied = sum(1 for k in replayed if (k["pid"], k["graph_node_id"]) in nodes)
    if not replayed or tied != len(replayed):
        failed.append(f"{tied} of {len(replayed)} graph kernels tied to a captured node")
    eager_graph = sum(1 for r in records(eager) if r.get("kind") == "kernel" and r.get("graph_node_id"))
    if eager_graph:
        failed.append(f"{eager_graph} graph kernels in the eager run")
    print(f"tokens equal in {same} of {len(te)} requests; graphed run: {len(kernels)} kernels, "
          f"{len(replayed)} replayed from graphs, {tied} tied to {len(nodes)} captured nodes; "
          f"eager run: {eager_graph} graph kernels" + ("; FAILED: " + "; ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
