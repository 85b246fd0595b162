# lit configuration for attnc.
import os
import sys

import lit.formats

config.name = "attnc"
config.test_format = lit.formats.ShTest(execute_external=True)
# .attn files are tests when they carry RUN lines ('#' starts an .attn comment).
config.suffixes = [".attn", ".mlir", ".test"]
# fuzz/ holds libFuzzer seed corpora (scripts/run_fuzzers.sh), not tests.
config.excludes = ["Inputs", "fuzz", "CMakeLists.txt", "lit.cfg.py",
                   "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attnc_obj_root, "test")

config.environment["PATH"] = os.pathsep.join(
    [config.attnc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])]
)
config.substitutions.append(("%attnc_src", config.attnc_src_root))
config.substitutions.append(("%attnc_obj", config.attnc_obj_root))
config.substitutions.append(("%runtime_include", os.path.join(config.attnc_src_root, "runtime", "include")))
config.substitutions.append(("%cc", config.c_compiler))
# The Python running lit, for tests that read a tool's JSON.
config.substitutions.append(("%python", sys.executable))

# Tests of attnc --backend=halide say REQUIRES: halide.
if config.halide_backend.upper() in ("ON", "TRUE", "1", "YES"):
    config.available_features.add("halide")
