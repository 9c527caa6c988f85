"""What pyproject.toml cannot say: the packages are discovered (harness*, mock_okta*,
mock_clockwise*) and the shipped `scenarios/` folder (its YAML scenarios and the locustfile)
is installed inside the harness package as `harness/_shipped`, so an installed copy finds it
by its own path (harness.shipped), never through the working directory."""
from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["harness*", "mock_okta*", "mock_clockwise*"]), "harness._shipped"],
      package_dir={"harness._shipped": "scenarios"})
