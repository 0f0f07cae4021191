"""Checks partrace report on a pp_ep_loop.py run (tests/gpu/pp_ep.sh): the pair communicators
of the pipeline are PP and form one chain of N stages, its hops run s -> s+1 with the
receivers waiting, the stages have a PP bubble; the world communicator carrying the unequal
all_to_all_single is EP and its hot member is the hot rank, receiving what the dispatch and
the combine bring it over the mean (1.5 x for 4 ranks and HOT = 3).

usage: check_pp_ep.py WORK_DIR   (JSON summary; exit 1 on failure)"""
import glob
import json
import os
import sys


def main():
    work = sys.argv[1]
    issued = [json.load(open(p)) for p in glob.glob(os.path.join(work, "issued", "rank*.json"))]
    rep = {ph: json.load(open(os.path.join(work, f"report-{ph}.json"))) for ph in ("all", "pp", "ep")}
    world, hot_rank, hot = issued[0]["world"], issued[0]["hot_rank"], issued[0]["hot"]
    errors = []
    comms = rep["all"]["communicators"]
    pp = [c for c in comms if c["role"] == "PP"]
    ep = [c for c in comms if c["role"] == "EP"]
    hops = sorted((h["from"], h["to"]) for c in pp for h in c["hops"])
    if hops != [(s, s + 1) for s in range(world - 1)]:
        errors.append(f"PP hops {hops}, expected a chain of {world} stages")
    if rep["all"]["layout"]["pp"] != world:
        errors.append(f"layout {rep['all']['layout']}: pp should be {world}")
    if len(ep) != 1:
        errors.append(f"{len(ep)} EP communicators, expected 1")
    else:
        imb = ep[0]["recv_imbalance"]
        # Per step, in units: the dispatch brings the hot rank hot x world and each other rank
        # world; the combine brings every rank hot + world - 1 (its own tokens back).
        hot_gets, other_gets = hot * world + hot + world - 1, world + hot + world - 1
        want = hot_gets / ((hot_gets + (world - 1) * other_gets) / world)
        if not imb or imb["rank"] != hot_rank or abs(imb["max_over_mean"] - want) > 0.01:
            errors.append(f"EP imbalance {imb}, expected rank {hot_rank} at {want:.3f}")
    recv_wait = {(h["from"], h["to"]): h["recv_wait_ns"] for c in pp for h in c["hops"]}
    bubble = {r["rank"]: r["attribution_pct"]["pp_bubble"] for r in rep["pp"]["ranks"]
              if "attribution_pct" in r}
    ep_share = {r["rank"]: r["attribution_pct"]["ep_comm"] for r in rep["ep"]["ranks"]
                if "attribution_pct" in r}
    if not any(v > 0 for v in recv_wait.values()):
        errors.append("no receiver waited on any PP hop")
    if not all(bubble.get(s, 0) > 0 for s in range(1, world)):
        errors.append(f"PP bubble per rank in phase pp: {bubble}")
    if not all(v > 0 for v in ep_share.values()):
        errors.append(f"EP share per rank in phase ep: {ep_share}")
    print(json.dumps(dict(layout=rep["all"]["layout"], pp_hops_recv_wait_ns=
                          {f"{a}->{b}": v for (a, b), v in recv_wait.items()},
                          pp_bubble_pct=bubble, ep_comm_pct=ep_share,
                          ep_imbalance=ep[0]["recv_imbalance"] if ep else None,
                          roles=[(c["id"], c["nranks"], c["role"]) for c in comms],
                          errors=errors, ok=not errors), indent=1))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
