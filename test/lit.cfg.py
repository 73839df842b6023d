# lit configuration for the uoe FileCheck suites (dialect/, passes/, codegen/,
# e2e/). The GoogleTest binaries are a separate suite under unittests/.
import os
import shutil

import lit.formats
from lit.llvm import llvm_config

config.name = "uoe"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".pbtxt"]
config.excludes = ["unittests", "Inputs", "lit.cfg.py", "lit.site.cfg.py", "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.uoe_obj_root, "test")

# Variables in FileCheck patterns are local to a CHECK-LABEL block.
config.environment["FILECHECK_OPTS"] = "-enable-var-scope --allow-unused-prefixes=false"

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
config.substitutions.append(("%uoe_src_root", config.uoe_src_root))
config.substitutions.append(("%uoe_obj_root", config.uoe_obj_root))

tool_dirs = [config.uoe_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["FileCheck", "not", "count"], [config.llvm_tools_dir])
if config.uoe_build_compiler:
    config.available_features.add("compiler")
    llvm_config.add_tool_substitutions(["uoe-opt"], tool_dirs)
if os.path.exists(os.path.join(config.uoe_tools_dir, "uoe-run")):
    config.available_features.add("uoe-run")
    llvm_config.add_tool_substitutions(["uoe-run"], tool_dirs)

if os.path.exists(os.path.join(config.uoe_tools_dir, "uoe-exec")):
    config.available_features.add("uoe-exec")
    llvm_config.add_tool_substitutions(["uoe-exec"], tool_dirs)

if os.path.exists(os.path.join(config.uoe_tools_dir, "uoe-capi-example")):
    config.available_features.add("capi-example")
    llvm_config.add_tool_substitutions(["uoe-capi-example"], tool_dirs)

# GPU features: `ptxas` when the toolkit's assembler exists; `cuda` only when a
# driver and a device are present (tests needing a GPU say REQUIRES: cuda).
if config.ptxas and os.path.exists(config.ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", config.ptxas))
if shutil.which("nvidia-smi") and os.system("nvidia-smi -L > /dev/null 2>&1") == 0:
    config.available_features.add("cuda")
