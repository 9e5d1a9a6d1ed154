#!/usr/bin/env python3
"""The same work as bench-alert-verify with coincurve 21.0.0: parse each accepted alert, BSM digest of the hex of
its data, recover the 3 public keys, check they are 3 distinct keys of the local genesis set.

Usage: coincurve_verify.py VECTORS_JSON [SECONDS]
Prints one line; measures with time.thread_time() (CPU time of this thread), as the Swift side does.
"""
import hashlib
import json
import sys
import time

from coincurve import PublicKey

LOCAL_KEYS = {
    bytes.fromhex(k) for k in (
        "027276d234a138415c7d8d61e33ea9c625f0d043fd06f1c863464a58ed7939afe1",
        "0254b81f2e1bed83e414970ae7f7e3373014706251efb6990b5292a020e3a1585c",
        "03801e7b4077edad7ebb3fa87ced7b126ae8eb2fbcb75821001f84a0374eea4a21",
        "03df30507f71d1880888e9e7137280397a4235c2904d4c4e995d4292f00a9257b0",
        "03ec55b29332500401336f6e1648d367f4619bedb561fd817d2247d80c4bad236c",
    )
}
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
MAGIC = b"Bitcoin Signed Message:\n"


def varint(n):
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + n.to_bytes(2, "little")
    if n <= 0xFFFFFFFF:
        return b"\xfe" + n.to_bytes(4, "little")
    return b"\xff" + n.to_bytes(8, "little")


def verify(raw):
    if len(raw) < 20 + 197:
        return False
    data, sigs = raw[:-195], raw[-195:]
    message = data.hex().encode()
    digest = hashlib.sha256(hashlib.sha256(varint(len(MAGIC)) + MAGIC + varint(len(message)) + message).digest()).digest()
    signers = set()
    for i in range(3):
        sig = sigs[65 * i:65 * (i + 1)]
        header = sig[0]
        r, s = int.from_bytes(sig[1:33], "big"), int.from_bytes(sig[33:], "big")
        if not 31 <= header <= 34 or not (0 < r < N and 0 < s < N):
            return False
        key = PublicKey.from_signature_and_message(sig[1:] + bytes([header - 31]), digest, hasher=None).format(compressed=True)
        if key not in LOCAL_KEYS:
            return False
        signers.add(key)
    return len(signers) == 3


def main():
    vectors = json.load(open(sys.argv[1]))["vectors"]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    alerts = [bytes.fromhex(v["raw_hex"]) for v in vectors if v["expected"].get("outcome") == "accept"]
    assert all(verify(a) for a in alerts), "a vector that must verify did not"
    verified, start = 0, time.thread_time()
    elapsed = 0.0
    while elapsed < seconds:
        for raw in alerts:
            if verify(raw):
                verified += 1
        elapsed = time.thread_time() - start
    from importlib.metadata import version
    print("python   coincurve %s:          %9.0f alerts/s verified (3 signatures each; %d vectors, %.1f s CPU)"
          % (version("coincurve"), verified / elapsed, len(alerts), elapsed))


if __name__ == "__main__":
    main()
