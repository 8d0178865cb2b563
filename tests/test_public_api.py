"""The public surface: what the layers import from each other, and every ``__all__``.

- The façade (``poststack``) and the transports use the core only through
  names it exports: a public module (no ``_`` in its path) and a name in that
  module's ``__all__``.
- Every ``__all__`` lists exactly what its module offers: a module lists the
  public names it defines; a package lists the public names it imports from
  its submodules (or re-exports all of them with ``import *``).
- Every exported class names its public module, which is where pickles and
  tracebacks point.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest

import poststack
import poststack_core

ROOT = Path(__file__).resolve().parents[1]
LAYERS_ABOVE_THE_CORE = [ROOT / "poststack", ROOT / "transports"]


def _python_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if "__pycache__" not in path.parts)


def _core_imports(path: Path) -> list[tuple[str, str, int]]:
    """(module, name, line) for every ``from poststack_core... import name`` in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "poststack_core":
                found.extend((node.module, alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "poststack_core":
                    found.append((alias.name, "", node.lineno))
    return found


@pytest.mark.parametrize(
    "path",
    [path for folder in LAYERS_ABOVE_THE_CORE for path in _python_files(folder)],
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_the_layers_above_use_only_what_the_core_exports(path: Path) -> None:
    for module_name, name, line in _core_imports(path):
        where = f"{path.relative_to(ROOT)}:{line}"
        assert not any(part.startswith("_") for part in module_name.split(".")), (
            f"{where} imports the private module {module_name}"
        )
        if not name:
            continue
        module = importlib.import_module(module_name)
        if name == "*":
            assert hasattr(module, "__all__") or module.__name__ == "poststack_core.types", where
            continue
        exported = set(getattr(module, "__all__", ()))
        submodule = f"{module_name}.{name}"
        is_submodule = importlib.util.find_spec(submodule) is not None
        assert name in exported or is_submodule, f"{where}: {module_name} does not export {name}"


# -- every __all__ ----------------------------------------------------------------------


def _modules(package: ModuleType) -> list[ModuleType]:
    found = [package]
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        if info.name.endswith("__main__") or any(
            f".{part}" in info.name for part in ("testing", "contrib", "cli")
        ):
            continue  # a script, or modules that import their frameworks (checked apart)
        found.append(importlib.import_module(info.name))
    return found


MODULES = [*_modules(poststack_core), *_modules(poststack)]


def _defined_here(module: ModuleType) -> set[str]:
    """The public names a module's own source binds at top level (imports excluded)."""
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


def _imported_here(module: ModuleType) -> set[str]:
    """Names a package's source imports to offer: from its own submodules or our packages.

    Helpers it imports for its own use (``typing``, or ``.._resource`` in a
    subpackage) are not on offer; names a star import brings are the source
    module's ``__all__``.
    """
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom):
            continue
        own = node.level == 1
        ours = node.level == 0 and (node.module or "").split(".")[0] == "poststack_core"
        if not (own or ours):
            continue
        for alias in node.names:
            if alias.name == "*":
                source = importlib.import_module(node.module or "", module.__name__)
                names.update(source.__all__)
            else:
                names.add(alias.asname or alias.name)
    return names


def _public(names: set[str], module: ModuleType) -> set[str]:
    """``names`` without private ones and without modules (a package's submodules)."""
    return {
        name
        for name in names
        if not (name.startswith("_") and not name.startswith("__"))
        and not isinstance(getattr(module, name, None), ModuleType)
    }


MODULES_WITH_ALL = [module for module in MODULES if hasattr(module, "__all__")]


@pytest.mark.parametrize("module", MODULES_WITH_ALL, ids=lambda module: module.__name__)
def test_every_all_lists_exactly_what_its_module_offers(module: ModuleType) -> None:
    exported: list[str] = module.__all__
    assert len(exported) == len(set(exported)), f"{module.__name__}.__all__ repeats a name"
    for name in exported:
        assert hasattr(module, name), f"{module.__name__}.__all__ names missing {name}"
    offered = _defined_here(module)
    if hasattr(module, "__path__") or not offered:
        # A package, or a module that only re-exports, offers what it brings in.
        offered |= _imported_here(module)
    assert _public(set(exported), module) == _public(offered, module)


def test_a_package_without_all_re_exports_exactly_its_submodules_all() -> None:
    import poststack_core.types

    package = poststack_core.types
    assert not hasattr(package, "__all__")
    offered = _public({name for name in vars(package) if not name.startswith("_")}, package)
    union = set().union(
        *(
            importlib.import_module(f"{package.__name__}.{info.name}").__all__
            for info in pkgutil.iter_modules(package.__path__)
        )
    )
    assert offered == union


def test_the_types_are_the_same_in_the_core_and_the_facade() -> None:
    import poststack.types
    import poststack_core.types

    def names(module: ModuleType) -> set[str]:
        return {
            name
            for name, value in vars(module).items()
            if not name.startswith("_") and not isinstance(value, ModuleType)
        }

    assert names(poststack.types) == names(poststack_core.types)
    assert len(names(poststack.types)) > 100


# -- public module names ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("package", "module_name"),
    [
        (poststack_core, "poststack_core"),
        (poststack, "poststack"),
    ],
)
def test_exported_classes_name_their_public_module(package: ModuleType, module_name: str) -> None:
    for name in package.__all__:
        value = getattr(package, name)
        if isinstance(value, type) and value.__module__.split(".")[0] == module_name:
            assert value.__module__ == module_name, f"{name}: {value.__module__}"
            assert getattr(importlib.import_module(value.__module__), name) is value


def test_no_public_class_anywhere_names_a_private_module() -> None:
    public_modules = [
        module
        for module in MODULES
        if not any(part.startswith("_") for part in module.__name__.split("."))
    ]
    for module in public_modules:
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if isinstance(value, type) and value.__module__.startswith(("poststack", "transports")):
                private = [part for part in value.__module__.split(".") if part.startswith("_")]
                assert not private, f"{module.__name__}.{name} shows {value.__module__}"


# -- help() on every method -------------------------------------------------------------


def _methods(client: object) -> list[tuple[str, object, object]]:
    """(name, descriptor on the class, bound method) for every method of every resource."""
    from poststack_core.endpoints import Resources

    found = []
    for name in Resources.__annotations__:
        resource = getattr(client, name)
        for attribute, value in vars(type(resource)).items():
            if not attribute.startswith("_"):
                found.append((f"{name}.{attribute}", value, getattr(resource, attribute)))
    return found


@pytest.mark.parametrize("client_type", [poststack.PostStack, poststack.AsyncPostStack])
def test_every_method_and_walker_has_a_docstring_that_help_shows(client_type: type) -> None:
    import inspect
    import pydoc

    from poststack_core import pages

    methods = _methods(client_type(api_key="sk_test_x"))
    assert len(methods) > 150
    for name, descriptor, method in methods:
        doc = inspect.getdoc(method)
        assert doc, f"{name} has no docstring"
        assert doc.splitlines()[0] in pydoc.render_doc(method, renderer=pydoc.plaintext), name
        if isinstance(descriptor, pages):
            # A walker says what it walks, not what the list endpoint returns.
            listing = descriptor.definition.__name__
            assert doc.startswith(f"Every item of ``{listing}``"), name
            assert "page after page" in doc
            expected = inspect.signature(descriptor.definition).parameters
            assert inspect.signature(method).parameters == expected, name
        elif not isinstance(descriptor, staticmethod):
            definition = inspect.signature(descriptor.definition)  # type: ignore[attr-defined]
            assert inspect.signature(method).parameters == definition.parameters, name
            assert inspect.signature(method).return_annotation is inspect.Signature.empty
