"""The PEP 517 build backend of the uoe Python package (pyproject.toml),
in the standard library only: `pip install ./python` works offline, with
or without build isolation, and needs neither setuptools nor wheel.

The wheel holds python/uoe/*.py and libuoe_c.so copied from
$UOE_BUILD_DIR/lib (default: <repo>/build/lib) to uoe/_lib/, where the
package finds it at import time. The library is native code linked against
the system's LLVM/MLIR, protobuf and libomp, so the wheel is tagged for
this platform. An editable install (`pip install -e ./python`) instead adds
python/ to sys.path; the package then finds <repo>/build/lib/libuoe_c.so
(or $UOE_LIBRARY) at import time.
"""
import base64
import hashlib
import os
import sysconfig
import zipfile

NAME, VERSION = "uoe", "0.1.0"
HERE = os.path.dirname(os.path.abspath(__file__))
DIST_INFO = f"{NAME}-{VERSION}.dist-info"
METADATA = f"""Metadata-Version: 2.1
Name: {NAME}
Version: {VERSION}
Summary: Compile and run Union-of-Experts models (the uoe C API through ctypes)
Requires-Python: >=3.9
Requires-Dist: numpy
"""


def _library(config_settings):
    build = ((config_settings or {}).get("build-dir") or os.environ.get("UOE_BUILD_DIR")
             or os.path.join(HERE, os.pardir, "build"))
    path = os.path.join(build, "lib", "libuoe_c.so")
    if not os.path.exists(path):
        raise RuntimeError(
            f"uoe: {os.path.abspath(path)} does not exist; build the C API first "
            "(./scripts/build.sh) or point UOE_BUILD_DIR at your build directory")
    return os.path.realpath(path)  # the file behind libuoe_c.so -> .so.0 -> .so.0.1


def _tag():
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"py3-none-{platform}"


class _Wheel:
    """A wheel being written: files with their RECORD lines."""

    def __init__(self, path):
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
        self.record = []

    def add(self, name, data, executable=False):
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = (0o755 if executable else 0o644) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(info, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        self.record.append(f"{name},sha256={digest.decode()},{len(data)}")

    def close(self, tag):
        self.add(f"{DIST_INFO}/METADATA", METADATA.encode())
        self.add(f"{DIST_INFO}/WHEEL", (
            "Wheel-Version: 1.0\nGenerator: uoe _uoe_build\n"
            f"Root-Is-Purelib: false\nTag: {tag}\n").encode())
        self.record.append(f"{DIST_INFO}/RECORD,,")
        self.zip.writestr(f"{DIST_INFO}/RECORD", "\n".join(self.record) + "\n")
        self.zip.close()


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    library = _library(config_settings)
    tag = _tag()
    name = f"{NAME}-{VERSION}-{tag}.whl"
    wheel = _Wheel(os.path.join(wheel_directory, name))
    package = os.path.join(HERE, "uoe")
    for file in sorted(os.listdir(package)):
        if file.endswith(".py"):
            wheel.add(f"uoe/{file}", _read(os.path.join(package, file)))
    wheel.add("uoe/_lib/libuoe_c.so", _read(library), executable=True)
    wheel.close(tag)
    return name


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    wheel = _Wheel(os.path.join(wheel_directory, name))
    wheel.add("uoe_editable.pth", (HERE + "\n").encode())
    wheel.close("py3-none-any")
    return name
