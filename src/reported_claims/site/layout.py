"""A layered drawing of a lineage graph: grandalf's Sugiyama layout, primary sources on top.

Positions are rounded to whole pixels and every input is sorted, so the same graph is always
drawn the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from reported_claims.errors import require
from reported_claims.site.lineage import Edge, Graph

NODE_W = 232
NODE_H = 64
X_SPACE = 28
Y_SPACE = 70
MARGIN = 12


@dataclass(frozen=True)
class Placed:
    """A node's box, by its top-left corner."""

    id: str
    x: int
    y: int
    w: int = NODE_W
    h: int = NODE_H


@dataclass(frozen=True)
class Route:
    """An edge as a polyline from the bottom of its upstream box to the top of its downstream one."""

    edge: Edge
    points: tuple[tuple[int, int], ...]

    @property
    def label_at(self) -> tuple[int, int]:
        """Where its relation is written: the middle of its middle segment."""
        i = (len(self.points) - 1) // 2
        (x0, y0), (x1, y1) = self.points[i], self.points[i + 1]
        return (x0 + x1) // 2, (y0 + y1) // 2


@dataclass(frozen=True)
class Drawing:
    width: int
    height: int
    nodes: tuple[Placed, ...]
    routes: tuple[Route, ...]


class _Box:
    """The view grandalf reads a vertex's size from and writes its centre to."""

    def __init__(self):
        self.w, self.h, self.xy = NODE_W, NODE_H, (0.0, 0.0)


class _Path:
    """The view grandalf writes an edge's route to."""

    def __init__(self):
        self.points: list = []

    def setpath(self, points):
        self.points = points


def layout(graph: Graph) -> Drawing:
    """Lay out each connected part of the graph in layers, the parts side by side."""
    g = require("grandalf.graphs", "site", "drawing a lineage")
    sugiyama = require("grandalf.layouts", "site", "drawing a lineage").SugiyamaLayout
    vertices = {n: g.Vertex(n) for n in graph.nodes}
    edges = []
    for e in graph.edges:
        ge = g.Edge(vertices[e.upstream], vertices[e.downstream], data=e)
        ge.view = _Path()
        edges.append(ge)
    for v in vertices.values():
        v.view = _Box()
    whole = g.Graph(list(vertices.values()), edges)
    placed: dict[str, Placed] = {}
    routes: list[Route] = []
    offset = MARGIN
    height = 0
    for part in whole.C:
        lay = sugiyama(part)
        lay.xspace, lay.yspace = X_SPACE, Y_SPACE
        lay.init_all(roots=[v for v in part.sV if not v.e_in()])
        lay.draw()
        left = min(v.view.xy[0] for v in part.sV) - NODE_W / 2
        top = min(v.view.xy[1] for v in part.sV) - NODE_H / 2

        def at(xy, dx=0.0, dy=0.0):
            return round(xy[0] - left + offset + dx), round(xy[1] - top + MARGIN + dy)

        for v in part.sV:
            x, y = at(v.view.xy, -NODE_W / 2, -NODE_H / 2)
            placed[v.data] = Placed(v.data, x, y)
        for e in part.sE:
            pts = [at(p) for p in e.view.points]
            pts[0] = (pts[0][0], pts[0][1] + NODE_H // 2)
            pts[-1] = (pts[-1][0], pts[-1][1] - NODE_H // 2)
            routes.append(Route(e.data, tuple(pts)))
        right = max(p.x + p.w for p in placed.values())
        height = max(height, max(p.y + p.h for p in placed.values()) + MARGIN)
        offset = right + X_SPACE * 2
    width = offset - X_SPACE * 2 + MARGIN
    return Drawing(width, height, tuple(sorted(placed.values(), key=lambda p: p.id)),
                   tuple(sorted(routes, key=lambda r: r.edge)))
