"""The package's layering, checked on its source (imports at module level and inside functions alike).

Data flow: problems -> solvers -> recipes/data -> surrogates -> training -> validation -> command line.
A package may import from its own layer and the layers before it, never from a later one; and no
module imports another package's private (underscore) name. `nn` (architectures) and `diffusion`
(schedules and samplers) are libraries beside recipes/data, for the surrogates. The foundation
modules (errors, io, settings, registry) import nothing above themselves; `registry` names the modules
that fill it as strings, imported lazily.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pdesuite"
LAYERS = {
    "errors": 0, "io": 0, "settings": 0, "registry": 0, "resources": 0, "provenance": 0, "__init__": 0,
    "problems": 1,
    "solvers": 2,
    "recipes": 3, "data": 3, "nn": 3, "diffusion": 3,
    "surrogates": 4,
    "training": 5,
    "validation": 6,
    "cli": 7, "__main__": 7, "demo": 7, "gpu_validation": 7,
}


def package_of(module: str) -> str:
    """'pdesuite.training.trainer' -> 'training'; 'pdesuite.io' -> 'io'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(path: Path):
    """(line, imported module, imported names) of every `pdesuite` import in a file."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pdesuite") and node.level == 0:
            yield node.lineno, node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("pdesuite"):
                    yield node.lineno, alias.name, []


MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    return "pdesuite." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def test_every_package_has_a_layer():
    packages = {package_of(module_name(p)) for p in MODULES}
    assert packages <= set(LAYERS), f"give these a layer: {sorted(packages - set(LAYERS))}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_from_a_later_layer_and_no_foreign_private_names(path):
    own = package_of(module_name(path))
    problems = []
    for line, module, names in imports(path):
        other = package_of(module)
        if other == "__init__" and names:  # `from pdesuite import X`: X's own layer
            layers = [LAYERS.get(name, 0) for name in names]
        else:
            layers = [LAYERS[other]]
        if max(layers) > LAYERS[own]:
            problems.append(f"line {line}: {own} (layer {LAYERS[own]}) imports {module} (layer {max(layers)})")
        if other != own:
            private = [n for n in names if n.startswith("_") and n != "__version__"]
            if private or any(part.startswith("_") and part not in ("__init__", "__main__")
                              for part in module.split(".")):
                problems.append(f"line {line}: imports private {module} {private}")
    assert not problems, "\n".join(problems)
