from setuptools import setup

setup(name="flyte-fixture-pkg", version="0.1.0", packages=["flyte_fixture_pkg"])
