#!/usr/bin/env python3
"""Turns callgrind profiles of the chain-alerter processes into lld's --symbol-ordering-file.

Usage: make-order.py OUTPUT cg.<process>.<pid> ...   (see profile.sh, which makes the profiles)

Every function that any profiled process executed (start-up, following a live chain, raising and
delivering alerts, idling) is listed, the ones that more processes share and that cost more first. lld
places them together at the start of .text, so the code a process really runs sits on a few hundred
pages instead of being spread over 18 MB of text, where each touched 4 KiB page also maps up to 60 KiB
of its neighbours (fault-around). Only functions of the chain-alerter binaries are listed (not those of
libc, libzmq...). Symbols that a binary does not have are ignored by lld.
"""
import collections
import re
import sys


def executed_functions(path):
    """(binary, function) -> exclusive cost, from one callgrind output file."""
    names = {"ob": {}, "fn": {}}
    costs = collections.Counter()
    ob = fn = None
    cob = None
    expect_call_cost = False

    def name(kind, text):
        m = re.match(r"\((\d+)\)(?: (.*))?$", text)
        if not m:
            return text
        if m.group(2) is not None:
            names[kind][m.group(1)] = m.group(2)
        return names[kind].get(m.group(1), "?")

    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("ob="):
                ob = name("ob", line[3:])
            elif line.startswith("fn="):
                fn = name("fn", line[3:])
                costs[(ob, fn)] += 0
            elif line.startswith("cob="):
                cob = name("ob", line[4:])
            elif line.startswith("cfn="):
                callee = name("fn", line[4:])
                costs[(cob or ob, callee)] += 0
                cob = None
            elif line.startswith("calls="):
                expect_call_cost = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                if expect_call_cost:  # the inclusive cost of a call line is not this function's own
                    expect_call_cost = False
                    continue
                parts = line.split()
                if len(parts) >= 2 and fn is not None:
                    try:
                        costs[(ob, fn)] += int(parts[1])
                    except ValueError:
                        pass
    return costs


def main():
    output, profiles = sys.argv[1], sys.argv[2:]
    shared = collections.Counter()  # function -> number of processes that ran it
    cost = collections.Counter()
    for path in profiles:
        seen = set()
        for (binary, function), c in executed_functions(path).items():
            if binary is None or ".so" in binary.rsplit("/", 1)[-1] or "valgrind" in binary:
                continue
            function = re.sub(r"'\d+$", "", function)
            if function in ("?", "") or function.startswith("0x"):
                continue
            seen.add(function)
            cost[function] += c
        for function in seen:
            shared[function] += 1
    ordered = sorted(shared, key=lambda f: (-shared[f], -cost[f], f))
    with open(output, "w") as f:
        for function in ordered:
            f.write(function + "\n")
    print(f"{len(ordered)} functions from {len(profiles)} profiles -> {output}")


if __name__ == "__main__":
    main()
