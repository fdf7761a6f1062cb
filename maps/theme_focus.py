"""The area a thematic map focuses on (a district, a basin, a river, or the whole city) and the features that belong to it.

A feature belongs to a focused area when it overlaps it, measured in the
conformal metric CRS: a point inside it (or on its edge); a line running at
least :data:`MIN_OVERLAP_M` inside it (or half its length, for short lines);
a polygon overlapping it by :data:`MIN_OVERLAP_M2` (or half its area). A
neighbouring district that only shares an edge, give or take the slivers of
different boundary sources, does not belong to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cqgis import config
from cqgis.geo import crs
from cqgis.layers import places
from cqgis.layers.places import CITY
from cqgis.maps.errors import MapOptionError
from cqgis.maps.style import LayerSpec
from cqgis.maps.theme_base import CONTEXT_FILL, Layers

#: Overlap that makes a line part of an area, in metres.
MIN_OVERLAP_M = 500.0
#: Overlap that makes a polygon part of an area, in square metres (1 km²).
MIN_OVERLAP_M2 = 1e6
#: Corridor around a focused river, in metres, each side.
RIVER_CORRIDOR_M = 5000.0
#: Districts within this distance of a focused area are drawn in grey around it.
CONTEXT_DISTANCE_M = 1000.0


@dataclass(frozen=True)
class Focus:
    """The area a map shows.

    Parameters
    ----------
    name : str
        Its Chinese name in the title (``潼南区``, ``琼江流域``, ``重庆市``).
    area : shapely.Geometry, optional
        Its outline in the conformal metric CRS; None for the whole city
        (nothing is filtered).
    """

    name: str = CITY
    area: shapely.Geometry | None = None

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """Return the area's bounds in WGS84 (Chongqing's for the whole city)."""
        if self.area is None:
            return config.CHONGQING_BOUNDS
        return _wgs84_bounds(self.area)

    def keep(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Return the rows of ``frame`` that belong to the area (all rows for the whole city).

        Parameters
        ----------
        frame : geopandas.GeoDataFrame
            Features in WGS84.

        Returns
        -------
        geopandas.GeoDataFrame
            The rows of ``frame`` that belong to the area, in their order.
        """
        if self.area is None or not len(frame):
            return frame
        return frame[self.mask(frame)]

    def mask(self, frame: gpd.GeoDataFrame) -> np.ndarray:
        """Return, for each row of ``frame``, whether it belongs to the area.

        Parameters
        ----------
        frame : geopandas.GeoDataFrame
            Features in WGS84; the area must not be None.

        Returns
        -------
        numpy.ndarray
            Booleans, one per row (see the module docstring for the rule).
        """
        found = np.zeros(len(frame), dtype=bool)
        near = self._near(frame, 0.0)
        candidates = crs.project(frame.geometry.to_numpy()[near], frame.crs, crs.metric_crs("distance"))
        shapely.prepare(self.area)
        dimension = shapely.get_dimensions(candidates)
        overlap = shapely.intersection(candidates, self.area)
        found[near] = shapely.intersects(candidates, self.area) & np.select(
            [dimension == 0, dimension == 1],
            [
                True,
                shapely.length(overlap) >= np.minimum(MIN_OVERLAP_M, 0.5 * shapely.length(candidates)),
            ],
            default=shapely.area(overlap) >= np.minimum(MIN_OVERLAP_M2, 0.5 * shapely.area(candidates)),
        )
        return found

    def _near(self, frame: gpd.GeoDataFrame, distance_m: float) -> np.ndarray:
        """Return the positions of rows whose bounding box meets the area's, widened by ``distance_m``."""
        box = shapely.box(*_wgs84_bounds(shapely.buffer(shapely.envelope(self.area), distance_m)))
        return np.sort(frame.sindex.query(box, predicate="intersects"))

    def context(self, layers: Layers) -> LayerSpec | None:
        """Return the districts and neighbouring counties around the area, in grey.

        Parameters
        ----------
        layers : Layers
            Where the ``districts`` and ``neighbors`` layers come from.

        Returns
        -------
        LayerSpec or None
            The districts and counties within :data:`CONTEXT_DISTANCE_M` of
            the area that are not part of it; None for the whole city.
        """
        if self.area is None:
            return None
        around = pd.concat(
            [layers["districts"][["name", "geometry"]], layers["neighbors"][["name", "geometry"]]],
            ignore_index=True,
        )
        near = self._near(around, CONTEXT_DISTANCE_M)
        around = around.iloc[near]
        metric = crs.project(around.geometry.to_numpy(), config.STORAGE_CRS, crs.metric_crs("distance"))
        # The area's own districts are drawn by the theme; their inner points lie in the area.
        inside = shapely.intersects(shapely.point_on_surface(metric), self.area)
        close = shapely.dwithin(metric, self.area, CONTEXT_DISTANCE_M) & ~inside
        frame = gpd.GeoDataFrame(around[close], geometry="geometry", crs=config.STORAGE_CRS)
        return LayerSpec(
            "周边区县", frame, "polygon", color=CONTEXT_FILL, tooltip={"name": "区县"},
            label_column="name", weight=0.6, fill_opacity=0.8,
        )


def resolve(
    layers: Layers, district: str | None = None, basin: str | None = None, river: str | None = None
) -> Focus:
    """Return the focus named by at most one of ``district``, ``basin`` and ``river``.

    Parameters
    ----------
    layers : Layers
        Where the districts, basins and rivers come from.
    district : str, optional
        Full or short district name (``潼南区`` or ``潼南``).
    basin : str, optional
        Basin name of the ``basins`` layer (``琼江``, also ``琼江流域``).
    river : str, optional
        River name of the ``rivers`` layer; the map shows a corridor of
        :data:`RIVER_CORRIDOR_M` each side of its course in Chongqing.

    Returns
    -------
    Focus
        The named area in the conformal metric CRS; the whole city when no
        area is given.

    Raises
    ------
    MapOptionError
        Several areas given.
    cqgis.layers.errors.UnknownPlaceError
        An unknown name (close matches are listed).
    """
    given = {key: value for key, value in (("district", district), ("basin", basin), ("river", river)) if value}
    if len(given) > 1:
        msg = f"focus on one area only, not on {' and '.join(f'--{key} {value}' for key, value in given.items())}"
        raise MapOptionError(msg)
    if district:
        frame = layers["districts"]
        rows = places.rows(district, frame, "district")
        return Focus(frame["name"][rows].iloc[0], _metric_union(frame[rows]))
    if basin:
        frame = layers["basins"]
        rows = places.rows(basin, frame, "basin")
        return Focus(f"{frame['name'][rows].iloc[0]}{places.BASIN_SUFFIX}", _metric_union(frame[rows]))
    if river:
        frame = layers["rivers"]
        rows = places.rows(river, frame, "river")
        return Focus(f"{river}沿线", _corridor(frame[rows]))
    return Focus()


def _wgs84_bounds(metric_geometry: shapely.Geometry) -> tuple[float, float, float, float]:
    to_wgs84 = crs.transformer(crs.metric_crs("distance"), config.STORAGE_CRS)
    return tuple(float(v) for v in to_wgs84.transform_bounds(*shapely.bounds(metric_geometry), densify_pts=21))


def _metric_union(frame: gpd.GeoDataFrame) -> shapely.Geometry:
    return shapely.union_all(crs.project(frame.geometry.to_numpy(), frame.crs, crs.metric_crs("distance")))


def _corridor(frame: gpd.GeoDataFrame) -> shapely.Geometry:
    metric = crs.metric_crs("distance")
    course = shapely.union_all(frame.geometry.to_crs(metric).to_numpy())
    city = gpd.GeoSeries([shapely.box(*config.CHONGQING_BOUNDS)], crs=config.STORAGE_CRS).to_crs(metric)
    corridor = shapely.buffer(course, RIVER_CORRIDOR_M)
    inside = shapely.intersection(corridor, city.iloc[0])
    return corridor if shapely.is_empty(inside) else inside

