"""Layers import one way: no import cycle among idemclient's modules, and
``core`` (the journal, run-once, tokens, races) knows nothing of OSC, the
HTTP clients or the kinds. Read from the source, function-level imports
included: an import put inside a function to dodge a cycle is still one."""

import ast
import os

import testtools

import idemclient

ROOT = os.path.dirname(idemclient.__file__)


def modules():
    """{module name: path} of idemclient, tests left out."""
    found = {}
    for directory, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d != 'tests']
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(directory, name)
                module = 'idemclient' + path[len(ROOT):-3].replace(
                    os.sep, '.')
                found[module.replace('.__init__', '')] = path
    return found


def imports(path):
    """Every module name ``path`` imports, anywhere in it."""
    names = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update('%s.%s' % (node.module, alias.name)
                         for alias in node.names)
    return names


def graph():
    known = modules()
    return {module: {name for name in imports(path)
                     if name in known and name != module}
            for module, path in known.items()}


def cycles(edges):
    """The groups of modules that import each other (Tarjan's strongly
    connected components of more than one module)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


class TestLayers(testtools.TestCase):

    def test_the_walker_finds_a_cycle_where_there_is_one(self):
        self.assertEqual([['a', 'b', 'c']], cycles(
            {'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': {'a'}}))

    def test_no_import_cycle(self):
        self.assertEqual([], cycles(graph()))

    def test_core_imports_only_core_and_the_standard_library(self):
        allowed_outside = {'tooz', 'tooz.coordination'}  # optional lock
        for module, path in modules().items():
            if not module.startswith('idemclient.core'):
                continue
            outside = {name for name in imports(path)
                       if name.split('.')[0] not in STDLIB and
                       not name.startswith('idemclient.core') and
                       name not in allowed_outside}
            self.assertEqual(set(), outside, module)


STDLIB = {'collections', 'contextlib', 'dataclasses', 'datetime', 'email',
          'fcntl', 'hashlib', 'json', 'os', 're', 'signal', 'socket',
          'sqlite3', 'tempfile', 'time', 'urllib', 'uuid', 'typing',
          'abc', 'logging', 'functools', 'itertools', 'math', 'threading',
          'random'}
