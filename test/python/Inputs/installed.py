"""test/python/pip-install.test: the installed package runs a model."""
import numpy as np
import uoe
from uoetest import TINY  # this script's folder is on sys.path

print("library:", uoe.library_path())
print("package:", uoe.__file__)
model = uoe.compile(TINY, weights={"w": np.arange(4, dtype=np.float32)}, cache_dir=None)
print(model(np.ones(4, np.float32)))
