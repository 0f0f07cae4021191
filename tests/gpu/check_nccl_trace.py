"""Checks a run directory recorded on the GPU machine against what each rank says it issued
(issued-rank<R>.json): every issued call is in that rank's trace, in order, with its bytes; the
same collective has the same communicator id, sequence number and bytes on every rank of its
communicator; every Send meets its Recv. Used by tests/gpu/*.sh there and by the CPU test
that guards the committed samples.

usage: check_nccl_trace.py PARTRACE RUN_DIR ISSUED_DIR   (prints a JSON summary, exit 1 on failure)"""
import glob
import json
import os
import subprocess
import sys
from collections import defaultdict

DATA_OPS = {"AllReduce", "Broadcast", "Bcast", "Reduce", "AllGather", "ReduceScatter",
            "AlltoAll", "Gather", "Scatter", "Send", "Recv"}


def load_ranks(partrace, run_dir):
    """{global rank: [events]} for every trace file that holds NCCL calls."""
    ranks = {}
    for path in sorted(glob.glob(os.path.join(run_dir, "*.ptrace"))):
        out = subprocess.run([partrace, "dump", "--json", path], capture_output=True, text=True,
                             check=True).stdout
        evs = [json.loads(line) for line in out.splitlines()]
        if not any(e["kind"] == "nccl" for e in evs):
            continue
        env = dict(e["value"].split("=", 1) for e in evs
                   if e["kind"] == "attr" and e["attr"] == "env")
        rank = int(env["RANK"])
        if rank in ranks:
            raise AssertionError(f"two traces claim RANK={rank}")
        ranks[rank] = evs
    return ranks


def match_issued(evs, issued, errors, rank):
    """Walks the trace in order; each issued call must appear after the previous one."""
    calls = [e for e in evs if e["kind"] == "nccl" and e["op"] in DATA_OPS]
    i = 0
    matched = []
    for want in issued:
        while i < len(calls) and not (calls[i]["op"] == want["op"] and
                                      calls[i]["bytes"] == want["bytes"]):
            i += 1
        if i == len(calls):
            errors.append(f"rank {rank}: issued {want} not found in order in its trace")
            return matched
        got = calls[i]
        if "root" in want and got["peer"] != want["root"]:
            errors.append(f"rank {rank}: {want} recorded with root {got['peer']}")
        if "peer" in want and got["nranks"] == len_world(evs) and got["peer"] != want["peer"]:
            errors.append(f"rank {rank}: {want} recorded with peer {got['peer']}")
        matched.append(got)
        i += 1
    return matched


def len_world(evs):
    return max((e["nranks"] for e in evs if e["kind"] == "comm_init"), default=-1)


def check_cross_rank(ranks, errors):
    """(comm, op, seq) of a collective is on every member with the same bytes; sends meet recvs."""
    coll = defaultdict(dict)
    p2p = {}
    sizes = {}
    for rank, evs in ranks.items():
        for e in evs:
            if e["kind"] != "nccl" or e["op"] not in DATA_OPS or e["comm"] == "0x" + "0" * 16:
                continue
            sizes[e["comm"]] = e["nranks"]
            if e["op"] in ("Send", "Recv"):
                p2p[(e["comm"], e["op"], e["rank"], e["peer"], e["seq"])] = e["bytes"]
            else:
                coll[(e["comm"], e["op"], e["seq"])][rank] = e["bytes"]
    for key, by_rank in coll.items():
        if len(by_rank) != sizes[key[0]]:
            errors.append(f"collective {key} seen on ranks {sorted(by_rank)}, comm has {sizes[key[0]]}")
        if len(set(by_rank.values())) != 1:
            errors.append(f"collective {key} has different bytes across ranks: {by_rank}")
    for (comm, op, me, peer, seq), nbytes in p2p.items():
        if op != "Send":
            continue
        other = p2p.get((comm, "Recv", peer, me, seq))
        if other is None:
            errors.append(f"Send comm {comm} {me}->{peer} seq {seq} has no matching Recv")
        elif other != nbytes:
            errors.append(f"Send comm {comm} {me}->{peer} seq {seq}: {nbytes} B sent, {other} B received")
    return len(coll), sum(1 for k in p2p if k[1] == "Send")


def check(partrace, run_dir, issued_dir):
    errors = []
    ranks = load_ranks(partrace, run_dir)
    issued = {}
    for path in glob.glob(os.path.join(issued_dir, "issued-rank*.json")):
        with open(path) as f:
            doc = json.load(f)
        issued[doc["rank"]] = doc
    if not issued:
        errors.append("no issued-rank*.json files")
    if sorted(ranks) != sorted(issued):
        errors.append(f"traces for ranks {sorted(ranks)}, issued lists for {sorted(issued)}")
    matched = extras = 0
    for rank, doc in issued.items():
        evs = ranks.get(rank, [])
        got = match_issued(evs, doc["calls"], errors, rank)
        matched += len(got)
        extras += sum(1 for e in evs if e["kind"] == "nccl" and e["op"] in DATA_OPS) - len(got)
    world_ids = {next((e["comm"] for e in evs if e["kind"] == "comm_init" and
                       e["nranks"] == len(ranks)), None) for evs in ranks.values()}
    if len(world_ids) != 1 or None in world_ids:
        errors.append(f"world communicator ids differ across ranks: {world_ids}")
    n_coll, n_send = check_cross_rank(ranks, errors)
    issued_total = sum(len(d["calls"]) for d in issued.values())
    return dict(ranks=len(ranks), issued=issued_total, matched=matched,
                extra_calls_seen=extras, collectives_matched_across_ranks=n_coll,
                sends_matched_to_recvs=n_send, errors=errors[:20], ok=not errors)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    summary = check(*sys.argv[1:])
    print(json.dumps(summary, indent=1))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
