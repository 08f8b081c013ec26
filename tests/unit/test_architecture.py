"""The layer rule is enforced: `lint-imports` passes on this tree and fails on a deliberate back-import."""

import shutil
import subprocess
import sys
from pathlib import Path

from bot.settings import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CAPABILITIES = ("oncall", "dispatch", "support", "statuspage", "jira_sync")


def lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120, check=False
    )


def copy_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    for name in ("bot", "listeners", "sandbox"):
        shutil.copytree(ROOT / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_a_foundation_module_importing_a_capability_breaks_the_contracts(tmp_path):
    tree = copy_tree(tmp_path)
    assert lint(tree).returncode == 0
    store = tree / "bot" / "store.py"
    store.write_text(store.read_text() + "\n\ndef _late() -> None:\n    import bot.oncall.service  # noqa\n")
    result = lint(tree)
    assert result.returncode != 0
    assert "The foundation imports no capability, listener, wiring or sandbox BROKEN" in result.stdout
    assert "bot.store -> bot.oncall.service" in result.stdout


def test_a_capability_importing_another_breaks_the_layers(tmp_path):
    tree = copy_tree(tmp_path)
    service = tree / "bot" / "statuspage" / "rules.py"
    service.write_text(service.read_text() + "\nfrom bot.support import records  # noqa: E402,F401\n")
    result = lint(tree)
    assert result.returncode != 0
    assert "Layers: wiring > listeners > capabilities > incident poller BROKEN" in result.stdout


def test_every_foundation_module_is_under_the_foundation_contract():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contract = next(c for c in config["contracts"] if c["name"].startswith("The foundation imports no capability"))
    above = {"bot.wiring", "bot.settings_doc", "bot.incidents"} | {f"bot.{name}" for name in CAPABILITIES}
    modules = {f"bot.{path.stem}" for path in (ROOT / "bot").glob("*.py") if path.stem != "__init__"}
    packages = {f"bot.{path.parent.name}" for path in (ROOT / "bot").glob("*/__init__.py")}
    assert set(contract["source_modules"]) == (modules | packages) - above

