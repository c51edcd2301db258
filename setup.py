"""The package is described in pyproject.toml; this file adds what it cannot say
there: two optional C extensions (archive/_index_form.c, the search index form, and
pipelines/_shingles.c, the MinHash shingle hashes; without a compiler the install goes
on and search_index.py and dedupe.py use their Python versions of the same functions), and
the egg that ``scrapyd-deploy`` builds with ``python setup.py bdist_egg``."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("archive._index_form", ["archive/_index_form.c"], optional=True),
        Extension("pipelines._shingles", ["pipelines/_shingles.c"], optional=True),
    ]
)
