#!/usr/bin/env python3
"""Times (thread CPU time) py-scalecodec 1.2.12 on the same conformance blocks as bench-scale (V14 metadata only).

Usage: py_scalecodec_bench.py CONFORMANCE_DIR [SECONDS_PER_BLOCK]
Prints one JSON object on stdout: per-block blocks/s and events/s, the Polkadot V14 metadata parse time,
and totals. bench-scale runs it and prints both figures side by side.
"""
import json
import os
import sys
import time

from importlib.metadata import version as package_version
from scalecodec.base import RuntimeConfigurationObject, ScaleBytes
from scalecodec.type_registry import load_type_registry_preset


def runtime_config(metadata_bytes):
    rc = RuntimeConfigurationObject()
    rc.update_type_registry(load_type_registry_preset("core"))
    rc.update_type_registry(load_type_registry_preset("legacy"))
    metadata = rc.create_scale_object("MetadataVersioned", data=ScaleBytes(metadata_bytes))
    metadata.decode()
    rc.add_portable_registry(metadata)
    return rc, metadata


def events_type_id(metadata):
    for pallet in metadata.pallets:
        if pallet.name == "System":
            for entry in pallet.storage:
                if entry.name == "Events":
                    return entry.get_value_type_string()
    raise RuntimeError("no System.Events")


def decode_block(rc, metadata, events_type, block):
    events = 0
    for xhex in block["extrinsics"]:
        ext = rc.create_scale_object("Extrinsic", data=ScaleBytes(xhex), metadata=metadata)
        ext.decode()
    if block.get("events_storage_hex"):
        ev = rc.create_scale_object(events_type, data=ScaleBytes(block["events_storage_hex"]), metadata=metadata)
        ev.decode()
        events = len(ev.value)
    return events


def main():
    root = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    sub = os.path.join(root, "substrate")
    results = {"library": "scalecodec " + package_version("scalecodec"), "blocks": []}

    blob_path = os.path.join(sub, "metadata", "polkadot_spec1000001_v14.scale")
    blob = open(blob_path, "rb").read()
    start = time.thread_time()
    runtime_config(blob)
    results["metadata_parse_seconds"] = {"file": "polkadot_spec1000001_v14.scale", "seconds": time.thread_time() - start}

    files = []
    for folder in ("blocks", "subspace"):
        for name in sorted(os.listdir(os.path.join(sub, folder))):
            if name.endswith(".json") and name != "chain.json":
                files.append(os.path.join(folder, name))
    configs = {}
    total_blocks = 0
    total_events = 0
    total_time = 0.0
    for rel in files:
        block = json.load(open(os.path.join(sub, rel)))
        meta_file = block["metadata"]
        if not meta_file.endswith("_v14.scale"):
            continue
        if meta_file not in configs:
            rc, metadata = runtime_config(open(os.path.join(sub, "metadata", meta_file), "rb").read())
            configs[meta_file] = (rc, metadata, events_type_id(metadata))
        rc, metadata, events_type = configs[meta_file]
        try:
            decode_block(rc, metadata, events_type, block)  # warm-up, also validates
        except Exception as error:  # noqa: BLE001 - report and go on with the others
            results["blocks"].append({"file": rel, "error": repr(error)[:200]})
            continue
        runs = 0
        events = 0
        start = time.thread_time()
        while True:
            events += decode_block(rc, metadata, events_type, block)
            runs += 1
            elapsed = time.thread_time() - start
            if elapsed >= seconds:
                break
        results["blocks"].append({"file": rel, "blocks_per_second": runs / elapsed, "events_per_second": events / elapsed,
                                  "extrinsics": len(block["extrinsics"]), "events": events // runs})
        total_blocks += runs
        total_events += events
        total_time += elapsed
    results["total"] = {"blocks_per_second": total_blocks / total_time if total_time else 0,
                        "events_per_second": total_events / total_time if total_time else 0}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
