"""For ``scrapyd-deploy``, which builds the project's egg with ``python setup.py
bdist_egg``; the package itself is described in pyproject.toml."""

from setuptools import setup

setup()
