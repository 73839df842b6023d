# Runs every GoogleTest binary named *Tests under build/test/unittests as a
# lit suite, one lit test per GoogleTest case.
import os
import lit.formats

config.name = "uoe-unittests"
config.test_format = lit.formats.GoogleTest(".", "Tests")
config.test_source_root = os.path.join(config.uoe_obj_root, "test", "unittests")
config.test_exec_root = config.test_source_root
