"""Reproducible synthetic regions: collection points, households, sites and roads.

The Otog Banner default (:func:`otog_params`) uses the real townships, gacha and
outline with synthetic positions and roads; :func:`synthetic_params` makes generic
regions for tests and benchmarks. :func:`generate_region` writes the files and the
scenario TOML.
"""

from planner.synth._generate import generate_region as generate_region
from planner.synth._params import FacilitySpec as FacilitySpec
from planner.synth._params import GachaSpec as GachaSpec
from planner.synth._params import RegionParams as RegionParams
from planner.synth._params import RegionSummary as RegionSummary
from planner.synth._params import TownshipSpec as TownshipSpec
from planner.synth._regions import otog_params as otog_params
from planner.synth._regions import synthetic_params as synthetic_params

__all__ = [
    "FacilitySpec",
    "GachaSpec",
    "RegionParams",
    "RegionSummary",
    "TownshipSpec",
    "generate_region",
    "otog_params",
    "synthetic_params",
]
