"""The real xtquant, for the terminal tests: the vendor's wheel from PyPI (pinned in constraints.txt, never
committed), its pure-Python xttrader.py / xttype.py / xtconstant.py / xtbson run unchanged, over the
stand-in for the Windows-only native `xtpythonclient` (tests/unit/terminal/xtpythonclient_standin.py).

`make install` downloads the wheel into .venv/vendor (QUANTLINK_VENDOR_DIR overrides); run without it, the
first test that needs it downloads it there with pip. The wheel's `__init__.py` is not run: all it does is
ask PyPI whether a newer xtquant exists.
"""

from __future__ import annotations

import gc
import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[3]
STANDIN = Path(__file__).with_name("xtpythonclient_standin.py")
# The sha256 of xtquant-250807.1.2-py3-none-any.whl as PyPI serves it: the tests run this exact vendor code.
WHEEL_SHA256 = {"250807.1.2": "91f19ff9a92971c5abe64fbd077e5212e0418f0820aa3427aef3444230f72921"}
PURE_PYTHON = ("xtquant/xttrader.py", "xtquant/xttype.py", "xtquant/xtconstant.py", "xtquant/doc/xttrader.md")


def pinned_version() -> str:
    text = (REPO / "constraints.txt").read_text(encoding="utf-8")
    match = re.search(r"^xtquant==(\S+)$", text, re.MULTILINE)
    assert match, "constraints.txt pins no xtquant version"
    return match.group(1)


def vendor_dir() -> Path:
    return Path(os.environ.get("QUANTLINK_VENDOR_DIR") or REPO / ".venv" / "vendor")


def wheel_path() -> Path:
    version = pinned_version()
    wheel = vendor_dir() / f"xtquant-{version}-py3-none-any.whl"
    if not wheel.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             f"xtquant=={version}", "--dest", str(wheel.parent)],
            check=True,
        )  # fmt: skip
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert digest == WHEEL_SHA256[version], f"{wheel} is not the xtquant {version} wheel PyPI serves"
    return wheel


def extract_pure_python(wheel: Path, destination: Path) -> Path:
    """The wheel's Python modules xttrader needs (xtbson included), unchanged; no .pyd or .dll."""
    with zipfile.ZipFile(wheel) as archive:
        names = [
            n for n in archive.namelist() if n in PURE_PYTHON or (n.startswith("xtquant/xtbson/") and n.endswith(".py"))
        ]
        archive.extractall(destination, members=names)
    return destination / "xtquant"


@dataclass
class VendorXtquant:
    """The vendor's modules, loaded fresh for one test, and the stand-in broker behind them."""

    root: Path
    xttrader: Any
    xttype: Any
    xtconstant: Any
    native: Any  # the stand-in xtpythonclient module

    @property
    def counter(self) -> Any:
        return self.native.COUNTER


def _package(root: Path) -> ModuleType:
    spec = importlib.machinery.ModuleSpec("xtquant", None, is_package=True)
    spec.submodule_search_locations = [str(root)]
    package = importlib.util.module_from_spec(spec)
    package.__path__ = [str(root)]
    return package


def _standin() -> ModuleType:
    spec = importlib.util.spec_from_file_location("xtquant.xtpythonclient", STANDIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["xtquant.xtpythonclient"] = module
    spec.loader.exec_module(module)
    return module


def _quotes(native: ModuleType) -> ModuleType:
    """xtdata talks to miniQMT's quote server over its own connection; this much of it is a plain fake."""
    module = ModuleType("xtquant.xtdata")

    def get_full_tick(code_list: list[str]) -> dict[str, dict[str, Any]]:
        quotes = native.COUNTER.quotes
        return {code: {"lastPrice": quotes[code]} for code in code_list if code in quotes}

    module.get_full_tick = get_full_tick  # type: ignore[attr-defined]
    return module


def _xtquant_modules() -> dict[str, ModuleType]:
    return {name: module for name, module in sys.modules.items() if name == "xtquant" or name.startswith("xtquant.")}


@contextmanager
def vendor_xtquant(root: Path) -> Iterator[VendorXtquant]:
    """The vendor's xtquant importable as `xtquant` inside the block (fresh modules and a fresh broker);
    afterwards sys.modules is as before and every blocked stand-in call is released."""
    saved = _xtquant_modules()
    for name in saved:
        del sys.modules[name]
    sys.modules["xtquant"] = _package(root)
    native = _standin()
    sys.modules["xtquant.xtdata"] = _quotes(native)
    try:
        vendor = VendorXtquant(
            root=root,
            xttrader=importlib.import_module("xtquant.xttrader"),
            xttype=importlib.import_module("xtquant.xttype"),
            xtconstant=importlib.import_module("xtquant.xtconstant"),
            native=native,
        )
        assert Path(vendor.xttrader.__file__).parent == root  # the wheel's own file, not a look-alike
        yield vendor
    finally:
        native.COUNTER.answering = True
        native.COUNTER.released.set()
        for client in native.COUNTER.clients:
            client.stop()
        gc.collect()  # xttrader's __del__ imports asyncio: run it now, not during interpreter shutdown
        for name in _xtquant_modules():
            del sys.modules[name]
        sys.modules.update(saved)
