"""The package is described in pyproject.toml; this file adds what it cannot say
there: the optional C extension (archive/_index_form.c, the index form at C speed;
without a compiler the install goes on and search.py uses its NumPy version), and
the egg that ``scrapyd-deploy`` builds with ``python setup.py bdist_egg``."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("archive._index_form", ["archive/_index_form.c"], optional=True)])
