#!/usr/bin/env python3
"""Checks that uoe's libraries depend on each other one way only.

Every top-level folder of the repository is one layer (docs/ARCHITECTURE.md,
"Layers"). A source file may include headers of its own folder and of the
folders its layer lists below, nothing above or beside it; the layers of the
runtime side (support, formats, runtime) and the training application
include no LLVM or MLIR header either, so that they build without them.

Usage: scripts/check_layers.py [ROOT]   (default: the repository)
Prints one line per violation ("FILE:LINE: ...") and exits 1 if there is
any, else prints "layers: N files checked, no upward include" and exits 0.
"""
import pathlib
import re
import sys

# What each layer may include, besides itself. Keep in the order of the
# picture in docs/ARCHITECTURE.md, bottom first.
LAYERS = {
    "support": set(),
    "formats": {"support"},
    "runtime": {"support", "formats"},
    "train": {"support", "formats", "runtime"},
    "dialect": set(),
    "passes": {"dialect"},
    "frontend": {"dialect", "support", "formats"},
    "codegen": {"runtime", "support"},
    "driver": {"codegen", "passes", "frontend", "dialect", "runtime",
               "formats", "support"},
    "include": set(),
    "capi": {"include", "driver", "codegen", "passes", "frontend", "dialect",
             "runtime", "formats", "support"},
}
# On top: they may include every layer above (but not each other's files).
TOP = {"tools", "bench", "examples", "fuzz", "test"}
# Layers that build without LLVM and MLIR.
NO_LLVM = {"support", "formats", "runtime", "train", "include"}

SOURCE_SUFFIXES = {".h", ".cpp", ".c", ".inc"}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([A-Za-z0-9_\-]+)/')


def check(root: pathlib.Path) -> int:
    problems = []
    checked = 0
    known = set(LAYERS) | TOP
    for layer in sorted(known):
        folder = root / layer
        if not folder.is_dir():
            continue
        allowed = (set(LAYERS) | {"tools"} if layer in TOP and layer != "tools"
                   else LAYERS.get(layer, set(LAYERS))) | {layer}
        for path in sorted(folder.rglob("*")):
            if path.suffix not in SOURCE_SUFFIXES or not path.is_file():
                continue
            # Inputs of tests (e.g. this script's own) are not sources.
            if "Inputs" in path.relative_to(root).parts:
                continue
            checked += 1
            text = path.read_text(errors="replace").splitlines()
            for number, line in enumerate(text, 1):
                match = INCLUDE.match(line)
                if not match:
                    continue
                target = match.group(1)
                where = f"{path.relative_to(root)}:{number}"
                if target in ("llvm", "mlir") and layer in NO_LLVM:
                    problems.append(
                        f"{where}: includes {target}/...: {layer}/ builds "
                        f"without LLVM and MLIR")
                elif target in known and target not in allowed:
                    below = ", ".join(sorted(allowed - {layer}))
                    rule = (f"may include only {below}" if below else
                            "includes no other layer")
                    problems.append(
                        f"{where}: includes {target}/..., but {layer}/ "
                        f"{rule} (docs/ARCHITECTURE.md)")
    for problem in problems:
        print(problem)
    if problems:
        print(f"layers: {len(problems)} upward or sideways include(s)")
        return 1
    print(f"layers: {checked} files checked, no upward include")
    return 0


if __name__ == "__main__":
    default = pathlib.Path(__file__).resolve().parent.parent
    sys.exit(check(pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else default))
