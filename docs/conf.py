"""Sphinx configuration of the API reference (``make docs``; README "Developing bootmigrate").

The docstrings are reStructuredText with Sphinx roles (``:class:``, ``:func:``, *param*),
so autodoc reads them as they are, with no docstring-style extension. The README stays
the user guide: MyST renders it, from the same file, as one page of these docs, so the
reference and the guide link to each other.
"""

from __future__ import annotations

import sys
from types import ModuleType

from sphinx.pycode import ModuleAnalyzer

import bootmigrate
import bootmigrate.testing

project = "bootmigrate"
author = "the bootmigrate authors"
release = bootmigrate.__version__
version = release

extensions = ["sphinx.ext.autodoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
html_theme = "alabaster"
html_title = f"bootmigrate {release}"

# The README's links to its own sections are GitHub's heading slugs.
myst_heading_anchors = 3

# Every public name says ``bootmigrate`` as its module once it has been looked up (the
# lazy ones in ``_LAZY`` on first use). Look them all up now, as ``from bootmigrate import
# X`` would, so that every signature names ``bootmigrate.X``, never a private module.
for _module in (bootmigrate, bootmigrate.testing):
    for _name in _module.__all__:
        getattr(_module, _name)

autodoc_member_order = "bysource"
autodoc_preserve_defaults = True
# Fields of the records (Report, Status, Plan, ...) are listed even without a comment:
# their names and types are the documentation users need most.
autodoc_default_options = {"members": True, "undoc-members": True}
# Signatures name the public aliases rather than the Unions they stand for. (The test
# kit's hooks are left out: Sphinx shows an alias inside ``Hook | None`` as its repr.)
autodoc_type_aliases = {
    "DatabaseLike": "bootmigrate.DatabaseLike",
    "SourceLike": "bootmigrate.SourceLike",
}

nitpicky = True
nitpick_ignore = [
    # The standard library's types in signatures: without intersphinx (the build fetches
    # nothing; CI reaches no documentation site) Sphinx has no target for them.
    *(
        ("py:class", name)
        for name in (
            "collections.abc.Callable",
            "collections.abc.Collection",
            "collections.abc.Iterable",
            "collections.abc.Iterator",
            "collections.abc.Mapping",
            "collections.abc.Sequence",
            "os.PathLike",
            "os.PathLike[str]",
            "pathlib.Path",
            "sqlite3.Connection",
            # The same, where autodoc shows a record's field as written: a class's
            # annotations are evaluated in its __module__, ``bootmigrate``, which
            # re-exports only the public names.
            "Path",
        )
    ),
    # The standard library's function the Connect alias is called like (see above).
    ("py:func", "sqlite3.connect"),
    # Private aliases in public signatures, spelt out in the docstrings that take them
    # (tests/test_public_api.py allows exactly these): Report.state's Literal, declared
    # for type checkers only as the boot imports no typing, and Baseline's *repair*.
    ("py:class", "State"),
    ("py:class", "Repair"),
]


def _attribute_docs_from_private_modules(public: ModuleType) -> None:
    """Let autodoc find the ``#:`` comments of *public*'s names where they are written.

    autodoc reads attribute and alias comments (``#: The version before the run.``) from
    the source of an object's ``__module__``, which for every public name is the public
    module: ``bootmigrate/__init__.py``, which re-exports only. Its analyzer (one per
    module, cached for the build) is given the comments, and their order, from the
    private module that defines each public name.
    """
    target = ModuleAnalyzer.for_module(public.__name__)
    target.analyze()
    for name in public.__all__:
        value = getattr(public, name)
        for module_name in sorted(m for m in sys.modules if m.startswith("bootmigrate.")):
            module = sys.modules[module_name]
            if module is None or vars(module).get(name) is not value:
                continue
            source = ModuleAnalyzer.for_module(module_name)
            source.analyze()
            if isinstance(value, type):
                if source.tags.get(name, ("",))[0] != "class":
                    continue  # imported here, defined elsewhere
                docs = {k: v for k, v in source.attr_docs.items() if k[0] == name}
                order = {k: v for k, v in source.tagorder.items() if k.startswith(name + ".")}
            else:
                docs = {k: v for k, v in source.attr_docs.items() if k == ("", name)}
                order = {}
            if docs or order:
                target.attr_docs.update(docs)
                target.tagorder.update(order)
                break
    if ModuleAnalyzer.for_module(public.__name__) is not target:
        raise RuntimeError("Sphinx no longer caches module analyzers: revisit docs/conf.py")


_attribute_docs_from_private_modules(bootmigrate)
_attribute_docs_from_private_modules(bootmigrate.testing)
