"""The golden case files' format and how a generator writes them: one place for both generators
(generate.py for PyTorch, libraries.py for the other libraries). Standard library only, so that
each generator runs in its own library's environment."""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CASES_DIR = os.path.join(HERE, "cases")
# The cases over several param groups (generate.py's `group_case`): `lr` and `momentum` are
# lists, `lr_values[g][i]` and `momentum_values[g][i]` are group g's.
GROUPS_DIR = os.path.join(HERE, "groups")
DEFAULTS_PATH = os.path.join(HERE, "defaults.json")

# The libraries other than PyTorch: their cases are named `<library>_...` and their kinds
# `<library>.<name>`; generate.py leaves both to libraries.py.
LIBRARIES = ("transformers", "optax", "keras", "timm", "fastai")


def library_of(kind_or_case):
    """The library a kind (`optax.sgdr_schedule`) or a case name (`optax_sgdr_...`) belongs to."""
    for lib in LIBRARIES:
        if kind_or_case.startswith(lib + ".") or kind_or_case.startswith(lib + "_"):
            return lib
    return None


def dumps_case(c, version_key):
    """A case as its file's text: one key per line, in the schema's order."""
    def j(v):
        return json.dumps(v, allow_nan=False, separators=(", ", ": "))

    keys = ["name", version_key, "spec", "lr", "momentum", "steps", "step_every", "metrics", "lr_values",
            "momentum_values"]
    lines = [f" {json.dumps(k)}: {j(c[k])}" for k in keys]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write(outputs, defaults, owns, check, stale_check=True, cases_dir=CASES_DIR):
    """Writes `outputs` ({case name: text}) and `defaults` ({kind: {argument: default}}) for the
    cases and kinds `owns(name)` is true of, keeping the other generator's. Removes the owned case
    files no longer produced (unless `stale_check` is off). Returns the number of changed or stale
    files; with `check`, writes nothing."""
    os.makedirs(cases_dir, exist_ok=True)
    changed = []
    table = {}
    if os.path.exists(DEFAULTS_PATH):
        with open(DEFAULTS_PATH, encoding="utf-8") as f:
            table = {k: v for k, v in json.load(f).items() if not owns(k)}
    table.update(defaults)
    defaults_text = json.dumps(table, indent=1, sort_keys=True) + "\n"
    old = open(DEFAULTS_PATH, encoding="utf-8").read() if os.path.exists(DEFAULTS_PATH) else None
    if old != defaults_text:
        changed.append("../defaults.json")
        if not check:
            with open(DEFAULTS_PATH, "w", encoding="utf-8", newline="\n") as f:
                f.write(defaults_text)
    for name, text in sorted(outputs.items()):
        path = os.path.join(cases_dir, name + ".json")
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                old = f.read()
        if old != text:
            changed.append(name)
            if not check:
                with open(path, "w", encoding="utf-8", newline="\n") as f:
                    f.write(text)
    stale = []
    if stale_check:
        for fn in sorted(os.listdir(cases_dir)):
            if fn.endswith(".json") and owns(fn[:-5]) and fn[:-5] not in outputs:
                stale.append(fn)
                if not check:
                    os.remove(os.path.join(cases_dir, fn))
    verb = "would change" if check else "wrote"
    print(f"{len(outputs)} cases; {verb} {len(changed)}; stale {'found' if check else 'removed'}: {len(stale)}",
          file=sys.stderr)
    for n in changed[:20]:
        print(f"  changed: {n}", file=sys.stderr)
    if len(changed) > 20:
        print(f"  ... and {len(changed) - 20} more", file=sys.stderr)
    for n in stale:
        print(f"  stale: {n}", file=sys.stderr)
    return len(changed) + len(stale)
