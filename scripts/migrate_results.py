#!/usr/bin/env python3
"""Converts kconform result files of the norm-only schema to the family-neutral one (schema 2).

  scripts/migrate_results.py --families FAMILIES.json FILE...

FAMILIES.json is `kconform list --families FAMILIES.json`. Each FILE is rewritten in place:
  - check/fuzz results ("kconform_check": 1): precision buckets "hidden_bucket" -> "bucket",
    each result gets its "family", "repro" -> "repros", failures get every field; the families'
    descriptions are added. Written with "kconform_check": 2.
  - benchmark files (Google Benchmark JSON of kconform bench): every kconform, PyTorch and
    FlashInfer row gets the structured label of kc/results/perf.h (the old labels were text such
    as "rmsnorm.hf bf16 1x1024 graph" and names such as "torch_compile/<profile>/<dtype>/<T>x<H>/
    decode"); the families' descriptions go into the context. Old torch.compile rows were static
    compiles for bandwidth shapes and the default (dynamic) compile for decode shapes, and old
    FlashInfer decode rows had PDL on: the labels say so.
  - report precision.json (kconform_precision 1): "hidden_bucket" -> "bucket", "family" added.
Only the norm family existed in schema 1, so every op is rmsnorm or fused_add_rmsnorm.
"""
import argparse
import json
import re


def op_of(profile):
    return "fused_add_rmsnorm" if profile.startswith("fused_add_rmsnorm.") else "rmsnorm"


def label(source, profile, dtype, kind, tokens, hidden, pdl):
    return json.dumps({"source": source, "family": "rmsnorm", "op": op_of(profile),
                       "profile": profile, "dtype": dtype, "kind": kind, "pdl": pdl,
                       "shape": {"tokens": tokens, "hidden": hidden}}, separators=(",", ":"))


def migrate_bench(doc, families):
    for b in doc["benchmarks"]:
        name, old = b.get("name", ""), b.get("label", "")
        if old.startswith("{"):
            continue  # already structured
        if name.startswith("BM_Copy"):
            b["label"] = json.dumps({"source": "kconform", "family": "", "op": "", "profile": "",
                                     "dtype": "", "kind": "copy", "pdl": False,
                                     "shape": {"bytes": int(b.get("bytes", 0))}},
                                    separators=(",", ":"))
        elif name.startswith("BM_EmptyKernel"):
            b["label"] = json.dumps({"source": "kconform", "family": "", "op": "", "profile": "",
                                     "dtype": "", "kind": "empty",
                                     "pdl": name.startswith("BM_EmptyKernel/1"), "shape": {}},
                                    separators=(",", ":"))
        elif name.startswith("BM_Bandwidth") or name.startswith("BM_Decode"):
            m = re.match(r"(\S+) (\S+) (\d+)x(\d+)", old)
            if not m:
                continue
            kind = "bandwidth" if name.startswith("BM_Bandwidth") else "decode"
            pdl = kind == "decode" and "no PDL" not in old
            b["label"] = label("kconform", m.group(1), m.group(2), kind, int(m.group(3)),
                               int(m.group(4)), pdl)
        else:
            parts = [p for p in name.split("/") if p != "manual_time" and ":" not in p]
            if len(parts) != 5 or parts[0] not in ("eager", "torch_compile", "flashinfer"):
                continue
            m = re.match(r"(\d+)x(\d+)$", parts[3])
            kind = parts[4]
            source = {"eager": "torch eager", "flashinfer": "flashinfer",
                      "torch_compile": "torch.compile static" if kind == "bandwidth"
                      else "torch.compile dynamic"}[parts[0]]
            pdl = parts[0] == "flashinfer" and kind == "decode"
            b["label"] = label(source, parts[1], parts[2], kind, int(m.group(1)),
                               int(m.group(2)), pdl)
    doc.setdefault("context", {})["families"] = families


def migrate_check(doc, families):
    doc["kconform_check"] = 2
    doc["families"] = families
    for r in doc["results"]:
        r["family"] = "rmsnorm"
        repro = r.pop("repro", "")
        r["repros"] = [repro] if repro else []
        if "failure" in r:
            f = r["failure"]
            for k, v in (("observed", ""), ("expected_rounded", ""), ("ulp_error", 0),
                         ("bound", 0), ("case", "")):
                f.setdefault(k, v)
        for b in r.get("precision", []):
            b["bucket"] = b.pop("hidden_bucket")
            b.setdefault("flushed_elements", 0)


def migrate_precision(doc):
    doc["kconform_precision"] = 2
    for e in doc["entries"]:
        e["bucket"] = e.pop("hidden_bucket")
        e["family"] = "rmsnorm"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--families", required=True)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    families = json.load(open(a.families))
    for path in a.files:
        doc = json.load(open(path))
        if "benchmarks" in doc:
            migrate_bench(doc, families)
            text = json.dumps(doc, separators=(",", ":"))
        elif doc.get("kconform_check") == 1:
            migrate_check(doc, families)
            text = json.dumps(doc, indent=1)
        elif doc.get("kconform_precision") == 1:
            migrate_precision(doc)
            text = json.dumps(doc, separators=(",", ":"))
        else:
            print(f"{path}: nothing to migrate")
            continue
        with open(path, "w") as f:
            f.write(text + "\n")
        print(f"{path}: migrated")


if __name__ == "__main__":
    main()
